//! THE output table: every step output the binary writes, with the description action.yml and
//! docs/action.md show. An output written under another name fails every test that writes it
//! (a debug assertion in `Workflow::outputs`); action.yml's outputs are checked against this table
//! (`settings::inputs::tests`).

/// One output.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// Its name (`steps.<id>.outputs.<name>`).
    pub name: &'static str,
    /// What it holds, for action.yml and the docs.
    #[cfg_attr(not(test), allow(dead_code))]
    pub description: &'static str,
    /// Declared in action.yml (the emulator's outputs are not: it is not a workflow step).
    #[cfg_attr(not(test), allow(dead_code))]
    pub action: bool,
}

const fn o(name: &'static str, description: &'static str) -> Output {
    Output {
        name,
        description,
        action: true,
    }
}

/// Every output.
pub const OUTPUTS: &[Output] = &[
    o("version", "The version released, uploaded or computed (e.g. 1.4.0)."),
    o(
        "previous-version",
        "The version it was computed from (the last tag, package.json or the live version); empty when there was none.",
    ),
    o("bump", "The bump applied: major, minor, patch, a pre-release bump or none."),
    o("tag", "The release tag of the version: <tag-prefix><version>."),
    o(
        "audit-id",
        "The review's auditid; empty when nothing was submitted.",
    ),
    o(
        "review-status",
        "The review's state: approved, rejected, pending (in review when the run detached), delayed, withdrawn, or not-submitted (nothing was submitted: WeChat refused the submit, or the run stopped before it).",
    ),
    o(
        "reject-reason",
        "WeChat's reason for a rejection, with line breaks for WeChat's <br>; empty otherwise.",
    ),
    o("published", "true when this run published the version (fully or phased)."),
    o(
        "stats",
        "JSON of `stats`: {appid, days and before (each {date, visits or null while WeChat has no figures yet}), pages, sources, startup, errors (per version: signatures with users and events), feedback, releases, notes}.",
    ),
    o(
        "rollout-status",
        "JSON of a rollout: {\"state\" (rolling, holding, complete, phased, reverted, unhealthy, stopped), \"step\", \"steps\", \"percent\", \"next-look\" (Unix seconds), \"history\" (each look: percent, at, verdict, why, error users new and old, share, ratio, crash feedback, worst new error)}; empty without a rollout.",
    ),
    o(
        "quota-rest",
        "Reviews left this month on the platform's quota (submit and run); empty when not read.",
    ),
    o(
        "package-sizes",
        "JSON list of the uploaded packages: [{\"name\",\"size\",\"limit\"}] in bytes; empty when nothing was uploaded.",
    ),
    o(
        "qrcode",
        "Path of the QR code PNG (preview; status with qrcode).",
    ),
    o(
        "qrcode-content",
        "The text the QR code encodes (the preview or trial link).",
    ),
    o(
        "qrcode-base64",
        "The preview QR code PNG, base64: to forward it anywhere (preview).",
    ),
    o(
        "summary-markdown",
        "The job summary's Markdown, to forward it anywhere (a chat, an issue).",
    ),
    o(
        "check-run-url",
        "Link to the check run (gating: check).",
    ),
    o(
        "deployment-url",
        "Link to the GitHub deployment's statuses (gating: deployment).",
    ),
    o(
        "release-url",
        "Link to the GitHub release (github-release: true, on publish).",
    ),
    o(
        "comment-url",
        "Link to the sticky pull-request comment.",
    ),
    o(
        "resumed",
        "resume: JSON list of the reviews followed: sha, check-run-id, audit-id, version, result, published, release-url.",
    ),
    o(
        "resumed-count",
        "resume: how many reviews it followed (the length of resumed).",
    ),
    o(
        "quota-limit",
        "quota: reviews allowed per month on the platform.",
    ),
    o("speedup-rest", "quota: expedited reviews left this month."),
    o("speedup-limit", "quota: expedited reviews allowed per month."),
    o(
        "review-version",
        "status: the version under (or last through) review.",
    ),
    o("live-version", "status: the live version; empty when none."),
    o(
        "trial-version",
        "status: the trial (experience) version; empty when none.",
    ),
    o(
        "withdrawn",
        "withdraw: true when a review was withdrawn, false when there was none to withdraw.",
    ),
    o(
        "history",
        "rollback with list: JSON list of the versions it can roll back to (WeChat's version_list).",
    ),
    o(
        "dry-run",
        "true when the command was a dry run of one change (nothing was sent).",
    ),
    o("template-id", "template add: the template made from the upload's draft."),
    o("draft-id", "template add: the draft it was made from."),
    o("template-count", "template list: how many templates the library holds (200 at most)."),
    o("templates", "template list: the templates as JSON, by id."),
    o(
        "deleted-templates",
        "template add / prune, fleet run: the ids of the templates deleted from a full library (comma-separated; prune --dry-run: the ones it would delete).",
    ),
    o("plan", "fleet plan: the plan as JSON (apps, what each does, apps left out and why)."),
    o(
        "matrix",
        "fleet plan with shards: {\"include\": [{\"shard\": \"1/N\"}, …]} for strategy.matrix through fromJSON.",
    ),
    o("submits", "fleet plan: how many apps the plan submits (review quota it needs)."),
    o("fleet-report", "fleet run / fleet report: the JSON report file (every app's outcome)."),
    o(
        "fleet-counts",
        "fleet run / fleet report: apps per outcome as JSON ({\"published\": 48, \"rejected\": 2, …}).",
    ),
    o("failed-apps", "fleet run / fleet report: the apps that failed, were rejected or were not submitted (comma-separated)."),
    o("pr-number", "release-pr: the number of the release pull request."),
    o("pr-url", "release-pr: the link to the release pull request."),
    Output {
        name: "url",
        description: "emulator, relay: the URL it serves.",
        action: false,
    },
    Output {
        name: "ca",
        description: "emulator: the file with its test CA certificate.",
        action: false,
    },
];

/// Whether `name` is an output of the table.
pub fn known(name: &str) -> bool {
    OUTPUTS.iter().any(|o| o.name == name)
}
