//! The platform's draft box and template library (component token).

use super::model::Template;
use super::{Answer, Ctx, World};
use serde_json::{json, Value};

/// The library holds at most 200 templates (85065).
pub const TEMPLATE_LIMIT: usize = 200;

fn draft_json(d: &super::model::Draft) -> Value {
    json!({
        "create_time": d.create_time,
        "user_version": d.user_version,
        "user_desc": d.user_desc,
        "draft_id": d.draft_id,
        "source_miniprogram_appid": d.source_appid,
        "source_miniprogram": d.source_appid,
        "developer": "mp-release",
    })
}

impl World {
    fn platform_mut(&mut self, c: &Ctx<'_>) -> Result<&mut super::model::Platform, i64> {
        self.platforms.get_mut(c.caller.component()).ok_or(61011)
    }

    /// `GET /wxa/gettemplatedraftlist`.
    pub(super) fn draft_list(&mut self, c: &Ctx<'_>) -> Answer {
        let p = self.platform_mut(c)?;
        Ok(json!({ "draft_list": p.drafts.iter().map(draft_json).collect::<Vec<_>>() }))
    }

    /// `POST /wxa/addtotemplate` `{draft_id, template_type?}`: no id in the answer.
    pub(super) fn add_to_template(&mut self, c: &Ctx<'_>) -> Answer {
        let draft_id = c.num("draft_id").ok_or(85064)?;
        let template_type = c.num("template_type").unwrap_or(0);
        if template_type > 1 {
            return Err(40097);
        }
        let component = c.caller.component().to_owned();
        self.promote_draft(
            &component,
            draft_id,
            u8::try_from(template_type).unwrap_or(0),
        )?;
        Ok(json!({}))
    }

    /// Copies a draft into the template library (`addtotemplate`, and the admin API's `templates`);
    /// returns the new template id. 85064 for an unknown draft, 85065 when the library is full.
    pub(super) fn promote_draft(
        &mut self,
        component: &str,
        draft_id: u64,
        template_type: u8,
    ) -> Result<u64, i64> {
        let now = self.now();
        let id = self.next_id();
        let p = self.platforms.get_mut(component).ok_or(61011)?;
        let draft = p
            .drafts
            .iter()
            .find(|d| d.draft_id == draft_id)
            .cloned()
            .ok_or(85064)?;
        if p.templates.len() >= TEMPLATE_LIMIT {
            return Err(85065);
        }
        p.templates.push(Template {
            template_id: id,
            draft,
            template_type,
            create_time: now,
            broken: false,
        });
        Ok(id)
    }

    /// `GET /wxa/gettemplatelist[?template_type=N]` (GET only: POST is 43001).
    /// REFERENCE-UNSURE: the doc shows `template_type` in a body of a GET; we read the query string.
    pub(super) fn template_list(&mut self, c: &Ctx<'_>) -> Answer {
        let filter: Option<u8> = c.req.param("template_type").and_then(|t| t.parse().ok());
        let p = self.platform_mut(c)?;
        let list: Vec<Value> = p
            .templates
            .iter()
            .filter(|t| filter.is_none_or(|f| f == t.template_type))
            .map(|t| {
                let mut v = draft_json(&t.draft);
                v["template_id"] = json!(t.template_id);
                v["template_type"] = json!(t.template_type);
                v["create_time"] = json!(t.create_time);
                v["category_list"] = json!([]);
                if t.template_type == 1 {
                    v["audit_status"] = json!(0);
                    v["reason"] = json!("");
                }
                v
            })
            .collect();
        Ok(json!({ "template_list": list }))
    }

    /// `POST /wxa/deletetemplate` `{template_id}`.
    pub(super) fn delete_template(&mut self, c: &Ctx<'_>) -> Answer {
        let id = c.num("template_id").ok_or(85064)?;
        let p = self.platform_mut(c)?;
        let before = p.templates.len();
        p.templates.retain(|t| t.template_id != id);
        if p.templates.len() == before {
            return Err(85064);
        }
        Ok(json!({}))
    }
}
