//! The field types of app.json and page/component JSON that miniprogram-ci refuses to pack when
//! wrong (its JSON-schema check, error 10009 "field needs to be …"), for the fields WeChat
//! documents in its configuration reference: the value types, the closed sets of words, and the
//! required keys. Fields not listed are not checked here (the official tool only warns about
//! unknown fields, in a `__warning__` string the native engine does not write).

use super::project::CompileError;
use serde_json::{Map, Value};

/// A field's type.
#[derive(Clone, Copy)]
enum T {
    Str,
    Bool,
    Num,
    Arr,
    Obj,
    StrOrObj,
    ObjOrBool,
    /// One of these strings.
    Words(&'static [&'static str]),
}

impl T {
    fn accepts(self, v: &Value) -> bool {
        match self {
            Self::Str => v.is_string(),
            Self::Bool => v.is_boolean(),
            Self::Num => v.is_number(),
            Self::Arr => v.is_array(),
            Self::Obj => v.is_object(),
            Self::StrOrObj => v.is_string() || v.is_object(),
            Self::ObjOrBool => v.is_object() || v.is_boolean(),
            Self::Words(w) => v.as_str().is_some_and(|s| w.contains(&s)),
        }
    }

    fn describe(self) -> String {
        match self {
            Self::Str => "string".into(),
            Self::Bool => "boolean".into(),
            Self::Num => "number".into(),
            Self::Arr => "array".into(),
            Self::Obj => "object".into(),
            Self::StrOrObj => "string or object".into(),
            Self::ObjOrBool => "object or boolean".into(),
            Self::Words(w) => format!("one of {}", w.join(", ")),
        }
    }
}

use T::{Arr, Bool, Num, Obj, ObjOrBool, Str, StrOrObj, Words};

/// Window settings: app.json's `window`, and every page's top level.
const WINDOW: &[(&str, T)] = &[
    ("navigationBarBackgroundColor", Str),
    ("navigationBarTextStyle", Str),
    ("navigationBarTitleText", Str),
    ("navigationStyle", Words(&["custom", "default"])),
    ("homeButton", Bool),
    ("backgroundColor", Str),
    ("backgroundColorTop", Str),
    ("backgroundColorBottom", Str),
    ("backgroundColorContent", Str),
    ("backgroundTextStyle", Str),
    ("enablePullDownRefresh", Bool),
    ("onReachBottomDistance", Num),
    ("pageOrientation", Words(&["auto", "landscape", "portrait"])),
    ("renderingMode", Words(&["mixed", "seperated"])),
    (
        "restartStrategy",
        Words(&["homePage", "homePageAndLatestPage"]),
    ),
    ("visualEffectInBackground", Words(&["hidden", "none"])),
    (
        "initialRenderingCache",
        Words(&["capture", "dynamic", "static"]),
    ),
    ("handleWebviewPreload", Words(&["auto", "manual", "static"])),
];

const PAGE: &[(&str, T)] = &[
    ("usingComponents", Obj),
    ("component", Bool),
    ("componentGenerics", Obj),
    ("componentPlaceholder", Obj),
    ("disableScroll", Bool),
    ("disableSwipeBack", Bool),
    (
        "renderer",
        Words(&["cover-view", "skyline", "webview", "xr-frame"]),
    ),
    ("rendererOptions", Obj),
    ("componentFramework", Words(&["exparser", "glass-easel"])),
    (
        "styleIsolation",
        Words(&[
            "apply-shared",
            "isolated",
            "page-apply-shared",
            "page-isolated",
            "page-shared",
            "shared",
        ]),
    ),
    ("pureDataPattern", Str),
    ("singlePage", Obj),
];

const APP: &[(&str, T)] = &[
    ("pages", Arr),
    ("window", Obj),
    ("tabBar", Obj),
    ("subPackages", Arr),
    ("subpackages", Arr),
    ("workers", StrOrObj),
    ("preloadRule", Obj),
    ("usingComponents", Obj),
    ("componentPlaceholder", Obj),
    ("appBar", Obj),
    ("plugins", Obj),
    ("entryPagePath", Str),
    ("permission", Obj),
    ("networkTimeout", Obj),
    ("debug", Bool),
    ("resizable", Bool),
    ("functionalPages", ObjOrBool),
    ("openDataContext", Str),
    ("openLocationPagePath", Str),
    ("sitemapLocation", Str),
    ("useExtendedLib", Obj),
    ("darkmode", Bool),
    ("themeLocation", Str),
    ("lazyCodeLoading", Str),
    ("renderer", Words(&["skyline", "webview"])),
    ("rendererOptions", Obj),
    ("componentFramework", Words(&["exparser", "glass-easel"])),
    ("requiredBackgroundModes", Arr),
    ("requiredPrivateInfos", Arr),
    ("embeddedAppIdList", Arr),
    ("enablePassiveEvent", ObjOrBool),
    ("displayMode", Words(&["desktop", "mobile", "pad"])),
    ("resolveAlias", Obj),
    ("accountCardPackage", Obj),
    ("cloud", Bool),
    ("style", Str),
    ("halfPage", Obj),
    ("singlePage", Obj),
    ("entranceDeclare", Obj),
    ("mimeTypeDeclarations", Obj),
];

const TAB_BAR: &[(&str, T)] = &[
    ("custom", Bool),
    ("list", Arr),
    ("position", Words(&["bottom", "top"])),
    ("color", Str),
    ("selectedColor", Str),
    ("backgroundColor", Str),
    ("borderStyle", Str),
];

const TAB: &[(&str, T)] = &[
    ("pagePath", Str),
    ("text", Str),
    ("iconPath", Str),
    ("selectedIconPath", Str),
    ("renderer", Words(&["cover-view", "skyline", "webview"])),
];

const SUBPACKAGE: &[(&str, T)] = &[
    ("root", Str),
    ("pages", Arr),
    ("name", Str),
    ("independent", Bool),
    ("entry", Str),
    ("plugins", Obj),
    ("useExtendedLib", Obj),
    ("componentFramework", Str),
    ("renderer", Str),
];

/// The items of a JSON list, numbered (nothing when it is not a list).
fn items(v: Option<&Value>) -> impl Iterator<Item = (usize, &Value)> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

fn fields(
    obj: &Map<String, Value>,
    at: &str,
    table: &[(&str, T)],
    required: &[&str],
    errors: &mut Vec<String>,
) {
    for key in required {
        if !obj.contains_key(*key) {
            errors.push(format!("{at}[\"{key}\"] should not be empty"));
        }
    }
    for (key, t) in table {
        if let Some(v) = obj.get(*key) {
            if !t.accepts(v) {
                errors.push(format!(
                    "{at}[\"{key}\"] field needs to be {}, not {v}",
                    t.describe()
                ));
            }
        }
    }
}

/// Keys whose values may be theme variables (`@name`, resolved from theme.json).
const WINDOW_VARIABLES: &[&str] = &[
    "navigationBarBackgroundColor",
    "navigationBarTextStyle",
    "backgroundColor",
    "backgroundTextStyle",
    "backgroundColorTop",
    "backgroundColorBottom",
    "backgroundColorContent",
];
const TAB_BAR_VARIABLES: &[&str] = &["color", "selectedColor", "backgroundColor", "borderStyle"];
const TAB_VARIABLES: &[&str] = &["iconPath", "selectedIconPath"];

/// theme.json's `light` and `dark` variables, when app.json names one.
pub type Theme<'a> = Option<&'a Value>;

/// Values starting with `@` are theme variables: only in the keys that take them, and only with a
/// theme.json that defines them in both modes.
fn variables(
    obj: &Map<String, Value>,
    at: &str,
    allowed: &[&str],
    theme: Theme<'_>,
    errors: &mut Vec<String>,
) {
    for (k, v) in obj {
        let Some(name) = v.as_str().and_then(|s| s.strip_prefix('@')) else {
            continue;
        };
        if !allowed.contains(&k.as_str()) {
            errors.push(format!("{at}[\"{k}\"]: \"@{name}\" should not be there (a theme variable is allowed only in {})", allowed.join(", ")));
            continue;
        }
        match theme {
            None => errors.push(format!(
                "{at}[\"{k}\"]: \"@{name}\" is a theme variable, and app.json has no themeLocation"
            )),
            Some(t) => {
                for mode in ["light", "dark"] {
                    if t.get(mode).and_then(|m| m.get(name)).is_none() {
                        errors.push(format!(
                            "{at}[\"{k}\"]: \"@{name}\" is not defined in the theme's \"{mode}\""
                        ));
                    }
                }
            }
        }
    }
}

/// Every key app.json's schema knows at its top level, in the schema's order.
const APP_KEYS: &[&str] = &[
    "pages",
    "static",
    "mini-ios",
    "mini-android",
    "mini-weixin",
    "__warning__",
    "window",
    "plugins",
    "entryPagePath",
    "permission",
    "workers",
    "agent",
    "subPackages",
    "subpackages",
    "chatTools",
    "preloadRule",
    "usingComponents",
    "componentPlaceholder",
    "tabBar",
    "appBar",
    "requiredBackgroundModes",
    "mimeTypeDeclarations",
    "networkTimeout",
    "debug",
    "resizable",
    "displayMode",
    "frameset",
    "functionalPages",
    "cloud",
    "cloudVersion",
    "cloudConfig",
    "openDataContext",
    "openLocationPagePath",
    "sitemapLocation",
    "serviceProviderTicket",
    "style",
    "useExtendedLib",
    "entranceDeclare",
    "darkmode",
    "themeLocation",
    "theme",
    "singlePage",
    "lazyCodeLoading",
    "lazyCodeLoadingLegacy",
    "enablePassiveEvent",
    "requireBackgroundModes",
    "embeddedAppIdList",
    "renderer",
    "resolveAlias",
    "debugOptions",
    "halfPage",
    "requiredPrivateInfos",
    "rendererOptions",
    "componentFramework",
    "accountCardPackage",
    "xrEntryPagePath",
    "miniApp",
    "__usePrivacyCheck__",
    "keepContextPageInCycleJump",
];
const TAB_BAR_KEYS: &[&str] = &[
    "custom",
    "list",
    "borderStyle",
    "position",
    "color",
    "selectedColor",
    "backgroundColor",
];
const TAB_KEYS: &[&str] = &[
    "pagePath",
    "text",
    "iconPath",
    "selectedIconPath",
    "renderer",
];
const SUBPACKAGE_KEYS: &[&str] = &[
    "independent",
    "name",
    "entry",
    "root",
    "pages",
    "plugins",
    "useExtendedLib",
    "componentFramework",
    "renderer",
];
/// The page schema's own keys besides the window ones.
const PAGE_KEYS: &[&str] = &[
    "pageJSONLight",
    "pageJSONDark",
    "enablePassiveEvent",
    "style",
    "componentPlaceholder",
    "mini-ios",
    "mini-android",
    "mini-ohos",
    "mini-weixin",
    "disableScroll",
    "disableSwipeBack",
    "usingComponents",
    "renderer",
    "rendererOptions",
    "component",
    "componentGenerics",
    "singlePage",
    "componentFramework",
    "styleIsolation",
    "pureDataPattern",
];

fn unknown(
    obj: &Map<String, Value>,
    known: &[&str],
    extra: &[&str],
    file: &str,
    at: &str,
    out: &mut Vec<String>,
) {
    for k in obj.keys() {
        if !known.contains(&k.as_str()) && !extra.contains(&k.as_str()) {
            out.push(format!("{file} {at}[\"{k}\"]"));
        }
    }
}

fn warning(found: &[String]) -> Option<String> {
    (!found.is_empty()).then(|| format!("invalid {}", found.join("、")))
}

/// The `__warning__` miniprogram-ci writes into app.json for keys its schema does not know (its
/// locale `en`), for the levels modelled here: the top level, `window`, `tabBar` and its `list`,
/// and subpackages. Warnings come in the schema's order of properties, each object's unknown keys
/// after what is inside it.
pub fn app_warning(app: &Map<String, Value>) -> Option<String> {
    let mut found = Vec::new();
    let window_keys: Vec<&str> = WINDOW.iter().map(|(k, _)| *k).collect();
    if let Some(Value::Object(w)) = app.get("window") {
        unknown(w, &window_keys, &[], "app.json", "window", &mut found);
    }
    for key in ["subPackages", "subpackages"] {
        for (i, sub) in items(app.get(key)) {
            if let Value::Object(o) = sub {
                unknown(
                    o,
                    SUBPACKAGE_KEYS,
                    &[],
                    "app.json",
                    &format!("{key}[{i}]"),
                    &mut found,
                );
            }
        }
    }
    if let Some(Value::Object(t)) = app.get("tabBar") {
        for (i, item) in items(t.get("list")) {
            if let Value::Object(o) = item {
                unknown(
                    o,
                    TAB_KEYS,
                    &[],
                    "app.json",
                    &format!("tabBar.list[{i}]"),
                    &mut found,
                );
            }
        }
        unknown(t, TAB_BAR_KEYS, &[], "app.json", "tabBar", &mut found);
    }
    unknown(app, APP_KEYS, &[], "app.json", "", &mut found);
    warning(&found)
}

/// The `__warning__` of a page's or component's JSON (its top-level keys).
pub fn page_warning(obj: &Map<String, Value>) -> Option<String> {
    let mut found = Vec::new();
    let window_keys: Vec<&str> = WINDOW.iter().map(|(k, _)| *k).collect();
    unknown(obj, PAGE_KEYS, &window_keys, "page.json", "", &mut found);
    warning(&found)
}

fn done(file: &str, errors: &[String]) -> Result<(), CompileError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CompileError::Broken {
            file: file.to_owned(),
            detail: errors.join("; "),
        })
    }
}

/// app.json's field types and theme variables, before any other check (as the official tool
/// orders them).
pub fn check_app(app: &Map<String, Value>, theme: Theme<'_>) -> Result<(), CompileError> {
    let mut errors = Vec::new();
    if let Some(Value::Object(w)) = app.get("window") {
        variables(w, "[\"window\"]", WINDOW_VARIABLES, theme, &mut errors);
    }
    if let Some(Value::Object(t)) = app.get("tabBar") {
        let top: Map<String, Value> = t
            .iter()
            .filter(|(k, _)| *k != "list")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        variables(&top, "[\"tabBar\"]", TAB_BAR_VARIABLES, theme, &mut errors);
        for (i, item) in items(t.get("list")) {
            if let Value::Object(o) = item {
                variables(
                    o,
                    &format!("[\"tabBar\"][\"list\"][{i}]"),
                    TAB_VARIABLES,
                    theme,
                    &mut errors,
                );
            }
        }
    }
    fields(app, "", APP, &["pages"], &mut errors);
    if let Some(Value::Array(pages)) = app.get("pages") {
        for (i, p) in pages.iter().enumerate() {
            if !p.is_string() {
                errors.push(format!(
                    "[\"pages\"][{i}] field needs to be string, not {p}"
                ));
            }
        }
    }
    if let Some(Value::Object(w)) = app.get("window") {
        fields(w, "[\"window\"]", WINDOW, &[], &mut errors);
    }
    if let Some(Value::Object(t)) = app.get("tabBar") {
        fields(t, "[\"tabBar\"]", TAB_BAR, &["list"], &mut errors);
        for (i, item) in items(t.get("list")) {
            match item {
                Value::Object(o) => fields(
                    o,
                    &format!("[\"tabBar\"][\"list\"][{i}]"),
                    TAB,
                    &["pagePath"],
                    &mut errors,
                ),
                other => errors.push(format!(
                    "[\"tabBar\"][\"list\"][{i}] field needs to be object, not {other}"
                )),
            }
        }
    }
    for key in ["subPackages", "subpackages"] {
        for (i, sub) in items(app.get(key)) {
            match sub {
                Value::Object(o) => fields(
                    o,
                    &format!("[\"{key}\"][{i}]"),
                    SUBPACKAGE,
                    &["pages", "root"],
                    &mut errors,
                ),
                other => errors.push(format!(
                    "[\"{key}\"][{i}] field needs to be object, not {other}"
                )),
            }
        }
    }
    if let Some(Value::Object(using)) = app.get("usingComponents") {
        for (k, v) in using {
            if !v.is_string() {
                errors.push(format!(
                    "[\"usingComponents\"][\"{k}\"] field needs to be string, not {v}"
                ));
            }
        }
    }
    done("app.json", &errors)
}

/// A page's or component's JSON field types and theme variables (`file`: its path, for the error).
pub fn check_page(
    file: &str,
    obj: &Map<String, Value>,
    theme: Theme<'_>,
) -> Result<(), CompileError> {
    let mut errors = Vec::new();
    variables(obj, "", WINDOW_VARIABLES, theme, &mut errors);
    fields(obj, "", PAGE, &[], &mut errors);
    fields(obj, "", WINDOW, &[], &mut errors);
    if let Some(Value::Object(using)) = obj.get("usingComponents") {
        for (k, v) in using {
            if !v.is_string() {
                errors.push(format!(
                    "[\"usingComponents\"][\"{k}\"] field needs to be string, not {v}"
                ));
            }
        }
    }
    done(file, &errors)
}
