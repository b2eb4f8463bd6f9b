// Drives the official miniprogram-ci for mp-release: reads one JSON request from the environment
// (MP_RELEASE_CI_REQUEST), prints progress and the result as JSON lines, and always exits: after a
// compile error the library keeps its worker alive for ~10 minutes, so the process is ended here.
'use strict';
const req = JSON.parse(process.env.MP_RELEASE_CI_REQUEST || '{}');
const ci = require(req.module || 'miniprogram-ci');
const emit = (o) => process.stdout.write(JSON.stringify(o) + '\n');
// As WeChat DevTools does: project.config.json's `setting` (es6, enhance, minified, minifyWXML,
// minifyWXSS, postcss, uglifyFileName, compileWorklet, …) decides the compilation, and the
// `setting` input's options (miniprogram-ci's names) win where given.
const setting = Object.assign({ useProjectConfig: true }, req.setting || {});

(async () => {
  const project = new ci.Project({
    appid: req.appid,
    type: req.type || 'miniProgram',
    projectPath: req.projectPath,
    privateKeyPath: req.privateKeyPath,
    ignores: ['node_modules/**/*'],
  });
  const common = {
    project,
    version: req.version || '0.0.1',
    desc: req.desc || 'mp-release',
    robot: req.robot || 1,
    setting,
    onProgressUpdate: (p) => emit({ progress: typeof p === 'string' ? p : (p && (p._msg || p.message || p.status)) || String(p) }),
  };
  if (req.packNpm) {
    let report = {};
    const warnings = await ci.packNpm(project, { ignores: [], reporter: (r) => { report = r || {}; } });
    emit({ packNpm: Object.assign({}, report, { warnings: (warnings || []).map((w) => w.msg || String(w)) }) });
  }
  let result;
  if (req.preview) {
    result = await ci.preview({
      ...common,
      qrcodeFormat: 'image',
      qrcodeOutputDest: req.qrcodeOutputDest,
      pagePath: req.pagePath,
      searchQuery: req.searchQuery,
      scene: req.scene || 1011,
    });
  } else {
    result = await ci.upload(common);
  }
  if (req.sourceMapSavePath && !req.preview) {
    await ci.getDevSourceMap({ project, robot: req.robot || 1, sourceMapSavePath: req.sourceMapSavePath });
    emit({ sourceMap: req.sourceMapSavePath });
  }
  emit({ result });
  process.exit(0);
})().catch((e) => {
  emit({ error: { code: e && e.code, message: String((e && e.message) || e) } });
  process.exit(1);
});
