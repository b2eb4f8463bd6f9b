// Checks requests sent to the GitHub REST API against GitHub's own OpenAPI description
// (@octokit/openapi, api.github.com, REST version 2022-11-28) and the limits its documentation
// states that the description does not encode.
//
//   node scripts/validate-github-requests.cjs <requests.json>
//
// <requests.json>: [{"method", "path", "query": {name: value}, "headers": {lower-case name: value},
// "body": JSON or null}]. Prints one line per problem and exits 1 when there is any. Run by the
// GitHub end-to-end tests (tests/all/github.rs) with NODE_PATH set by scripts/install-openapi.sh.
"use strict";
const fs = require("node:fs");
const Ajv = require("ajv");
const addFormats = require("ajv-formats");

const spec = require("@octokit/openapi/generated/api.github.com.json");
const graphql = require("graphql");
const path = require("node:path");
// GitHub's GraphQL schema (the package's main module is ESM only; its SDL file is all we need).
const schemaFile = (process.env.NODE_PATH || "")
  .split(path.delimiter)
  .map((dir) => path.join(dir, "@octokit", "graphql-schema", "schema.graphql"))
  .find((f) => fs.existsSync(f));
let gqlSchema = null;
function checkGraphql(body) {
  if (!schemaFile) return ["@octokit/graphql-schema is not installed (scripts/install-openapi.sh)"];
  // The published SDL defines two fields twice (an upstream slip): build it without the SDL check.
  if (!gqlSchema) gqlSchema = graphql.buildSchema(fs.readFileSync(schemaFile, "utf8"), { assumeValidSDL: true });
  if (!body || typeof body.query !== "string") return ["a GraphQL request needs {\"query\": …}"];
  let doc;
  try {
    doc = graphql.parse(body.query);
  } catch (e) {
    return [`the GraphQL query does not parse: ${e.message}`];
  }
  const out = graphql.validate(gqlSchema, doc).map((e) => `GraphQL: ${e.message}`);
  // The variables must fit the declared types (a missing required one, a wrong scalar).
  if (!out.length) {
    const op = doc.definitions.find((d) => d.kind === "OperationDefinition");
    const { errors } = graphql.getVariableValues(gqlSchema, op.variableDefinitions || [], body.variables || {});
    for (const e of errors || []) out.push(`GraphQL variables: ${e.message}`);
  }
  return out;
}
const requests = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
// The whole description once, so that the request schemas' `#/components/...` references resolve.
ajv.addSchema({ components: spec.components }, "github");
const rewrite = (s) =>
  JSON.parse(JSON.stringify(s).replaceAll('"$ref":"#/components/', '"$ref":"github#/components/'));

// Path templates as regular expressions, the literal ones first (`/check-runs` before `/{id}`).
const routes = Object.keys(spec.paths)
  .map((template) => ({
    template,
    // `{ref}` (git/ref/{ref}: `tags/v1.0.0`) and `{path}` (contents) may hold slashes.
    re: new RegExp(
      "^" + template.replace(/\{(ref|path)\}/g, ".+").replace(/\{[^}]+\}/g, "[^/]+") + "$"
    ),
    literal: template.replace(/\{[^}]+\}/g, "").length,
  }))
  .sort((a, b) => b.literal - a.literal);

// Limits from GitHub's REST documentation that the schemas leave out.
const limits = [
  ["post", "/repos/{owner}/{repo}/check-runs", checkRunLimits],
  ["patch", "/repos/{owner}/{repo}/check-runs/{check_run_id}", checkRunLimits],
  ["post", "/repos/{owner}/{repo}/statuses/{sha}", (b) => maxChars(b.description, 140, "description")],
  [
    "post",
    "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses",
    (b) => maxChars(b.description, 140, "description"),
  ],
  ["post", "/repos/{owner}/{repo}/issues/{issue_number}/comments", (b) => maxChars(b.body, 65536, "body")],
  ["patch", "/repos/{owner}/{repo}/issues/comments/{comment_id}", (b) => maxChars(b.body, 65536, "body")],
  ["post", "/repos/{owner}/{repo}/releases", (b) => maxChars(b.body, 125000, "body")],
];

function maxChars(value, max, name) {
  if (typeof value !== "string") return [];
  const n = [...value].length;
  return n > max ? [`${name} has ${n} characters, GitHub allows ${max}`] : [];
}

function checkRunLimits(b) {
  const out = [];
  const o = b.output || {};
  out.push(...maxChars(o.title, 1000, "output.title"));
  out.push(...maxChars(o.summary, 65535, "output.summary"));
  out.push(...maxChars(o.text, 65535, "output.text"));
  if (Array.isArray(o.annotations) && o.annotations.length > 50)
    out.push(`${o.annotations.length} annotations in one request, GitHub allows 50`);
  return out;
}

const problems = [];
requests.forEach((r, i) => {
  const where = `#${i + 1} ${r.method} ${r.path}`;
  if (r.method === "POST" && /\/graphql$/.test(r.path)) {
    const h = r.headers || {};
    if (!h["user-agent"]) problems.push(`${where}: no User-Agent header`);
    for (const p of checkGraphql(r.body)) problems.push(`${where}: ${p}`);
    return;
  }
  const route = routes.find((x) => x.re.test(r.path));
  const method = r.method.toLowerCase();
  const op = route && spec.paths[route.template][method];
  if (!op) {
    problems.push(`${where}: no such operation in GitHub's REST API`);
    return;
  }
  const h = r.headers || {};
  if (!(h["accept"] || "").includes("application/vnd.github+json"))
    problems.push(`${where}: Accept is ${JSON.stringify(h["accept"] || null)}, GitHub asks for application/vnd.github+json`);
  if (!h["x-github-api-version"]) problems.push(`${where}: no X-GitHub-Api-Version header`);
  if (!h["user-agent"]) problems.push(`${where}: no User-Agent header (GitHub refuses requests without one)`);
  const declared = new Set(
    (op.parameters || [])
      .map((p) => (p.$ref ? spec.components.parameters[p.$ref.split("/").pop()] : p))
      .filter((p) => p.in === "query")
      .map((p) => p.name)
  );
  for (const q of Object.keys(r.query || {}))
    if (!declared.has(q)) problems.push(`${where}: query parameter ${q} is not one of the operation's (${[...declared].join(", ")})`);
  const schema = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
  if (r.body !== null && r.body !== undefined) {
    if (!schema) {
      problems.push(`${where}: a body, but the operation takes none`);
    } else {
      const validate = ajv.compile(rewrite(schema.schema));
      if (!validate(r.body))
        for (const e of validate.errors)
          problems.push(`${where}: body${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
    }
  } else if (op.requestBody && op.requestBody.required) {
    problems.push(`${where}: the operation requires a body`);
  }
  for (const [m, t, check] of limits)
    if (m === method && t === route.template && r.body) for (const p of check(r.body)) problems.push(`${where}: ${p}`);
});
for (const p of problems) console.log(p);
console.error(`${requests.length} request(s) checked against GitHub's OpenAPI description: ${problems.length} problem(s)`);
process.exit(problems.length ? 1 : 0);
