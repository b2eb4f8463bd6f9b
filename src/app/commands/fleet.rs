//! `mp-release fleet plan | run | report`: settings here, the work in `app::fleet`.

use super::Ctx;
use crate::app::Report;
use crate::cli::FleetCommand;
use crate::output::Workflow;
use crate::settings;

pub(super) fn run(c: &FleetCommand, cx: &Ctx<'_, '_>, wf: &mut Workflow) -> anyhow::Result<Report> {
    match c {
        FleetCommand::Plan(a) => {
            let s = settings::fleet(a, cx.layers, cx.g)?;
            mask(&s, wf)?;
            cx.rt.block_on(crate::app::fleet::plan(s, wf))
        }
        FleetCommand::Run(a) => {
            if cx.flag("sandbox", a.sandbox)? {
                return cx.rt.block_on(crate::app::sandbox::fleet(wf, cx.g));
            }
            let s = settings::fleet_run(a, cx.layers, cx.g)?;
            mask(&s.fleet, wf)?;
            cx.rt.block_on(crate::app::fleet::run(s, wf, cx.g))
        }
        FleetCommand::Report(a) => {
            let paths = settings::reports(cx.layers, &a.reports, &cx.g.cwd)?;
            cx.rt.block_on(crate::app::fleet::report(&paths, cx.g))
        }
    }
}

/// The refresh tokens the fleet file names are secrets like any input: masked before anything.
fn mask(s: &settings::FleetSettings, wf: &mut Workflow) -> anyhow::Result<()> {
    for secret in s.secrets() {
        wf.mask(&secret)?;
    }
    Ok(())
}
