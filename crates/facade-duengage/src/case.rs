//! ServiceStack's letter case: a request's member names are bound without regard to case
//! (`segment`, `Segment` and `SEGMENT` are one member), and an answer's member names are
//! written in the text case the request asks for with `?jsconfig=` (PascalCase otherwise).

use axum::http::Uri;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use clientele_domain::{FieldError, ValidationErrors, Violation};

/// How an answer writes its member names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextCase {
    /// `PublicAccessGuid`, as the DuEngage document writes them.
    #[default]
    Pascal,
    /// `publicAccessGuid`.
    Camel,
    /// `public_access_guid`.
    Snake,
}

impl TextCase {
    /// The case `?jsconfig=` asks for. Its value is a comma-separated list of `name:value`
    /// (a name alone is `true`); names and values are matched without regard to case, in
    /// full or by their initials, as ServiceStack reads them: `TextCase:CamelCase`,
    /// `tc:cc`, `EmitCamelCaseNames:true`, `eccn`, `TextCase:SnakeCase`,
    /// `EmitLowercaseUnderscoreNames`, `elun`.
    pub fn of(uri: &Uri) -> TextCase {
        let query: Vec<(String, String)> =
            serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
        let Some((_, config)) = query.iter().find(|(name, _)| name.eq_ignore_ascii_case("jsconfig")) else {
            return TextCase::Pascal;
        };
        let mut case = TextCase::Pascal;
        for item in config.split(',') {
            let (name, value) = item.split_once(':').unwrap_or((item, "true"));
            let is = |full: &str, short: &str| {
                let text = name.trim();
                text.eq_ignore_ascii_case(full) || text.eq_ignore_ascii_case(short)
            };
            let value = value.trim();
            let truth = value.eq_ignore_ascii_case("true") || value == "1";
            if is("TextCase", "tc") {
                case = match value.to_ascii_lowercase().as_str() {
                    "camelcase" | "cc" => TextCase::Camel,
                    "snakecase" | "sc" => TextCase::Snake,
                    _ => TextCase::Pascal,
                };
            } else if is("EmitCamelCaseNames", "eccn") && truth {
                case = TextCase::Camel;
            } else if is("EmitLowercaseUnderscoreNames", "elun") && truth {
                case = TextCase::Snake;
            }
        }
        case
    }

    /// `name` (PascalCase) in this case.
    pub fn name(self, name: &str) -> String {
        match self {
            TextCase::Pascal => name.to_owned(),
            TextCase::Camel => {
                let mut chars = name.chars();
                chars.next().map(|first| first.to_ascii_lowercase().to_string() + chars.as_str()).unwrap_or_default()
            }
            TextCase::Snake => {
                let mut out = String::with_capacity(name.len() + 4);
                for (i, c) in name.chars().enumerate() {
                    if c.is_ascii_uppercase() && i > 0 {
                        out.push('_');
                    }
                    out.push(c.to_ascii_lowercase());
                }
                out
            }
        }
    }

    /// `value` with every member name, at every depth, in this case. (The answers hold no
    /// map of a client's keys, whose names are data.)
    pub fn apply(self, value: &Value) -> Value {
        match (self, value) {
            (TextCase::Pascal, _) => value.clone(),
            (_, Value::Object(members)) => {
                Value::Object(members.iter().map(|(name, value)| (self.name(name), self.apply(value))).collect())
            }
            (_, Value::Array(items)) => Value::Array(items.iter().map(|item| self.apply(item)).collect()),
            _ => value.clone(),
        }
    }
}

/// An object's members as sent, in order, a member given twice included (a map would keep
/// only the last).
#[derive(Debug, Default)]
pub struct Members(pub Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(pair) = map.next_entry::<String, Value>()? {
                    members.push(pair);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(Pairs)
    }
}

/// The members of a request under the names of `known` that they name without regard to
/// case; a member `known` does not name keeps its name (and is refused as unknown later).
/// Two members that name one member are refused, under its name.
pub fn fold(
    known: &[&str],
    members: impl IntoIterator<Item = (String, Value)>,
) -> Result<Map<String, Value>, ValidationErrors> {
    let mut object = Map::new();
    let mut errors = ValidationErrors::default();
    for (name, value) in members {
        let name =
            known.iter().find(|member| member.eq_ignore_ascii_case(&name)).map_or(name, |member| (*member).to_owned());
        if object.contains_key(&name) {
            errors.push(FieldError::new(name, Violation::Other("is given more than once".to_owned())));
            continue;
        }
        object.insert(name, value);
    }
    errors.into_result().map(|()| object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(query: &str) -> TextCase {
        TextCase::of(&format!("/api/OnceOffPayment?{query}").parse().unwrap())
    }

    #[test]
    fn jsconfig_asks_for_a_case_in_full_or_by_initials() {
        for query in [
            "jsconfig=TextCase:CamelCase",
            "jsconfig=tc:cc",
            "JSCONFIG=textcase:camelcase",
            "jsconfig=eccn",
            "jsconfig=EmitCamelCaseNames:true",
            "jsconfig=ExcludeDefaultValues,tc:cc",
        ] {
            assert_eq!(case(query), TextCase::Camel, "{query}");
        }
        for query in ["jsconfig=TextCase:SnakeCase", "jsconfig=tc:sc", "jsconfig=elun"] {
            assert_eq!(case(query), TextCase::Snake, "{query}");
        }
        for query in
            ["", "jsconfig=", "jsconfig=eccn:false", "jsconfig=tc:pc", "format=json", "jsconfig=TextCase:Nonsense"]
        {
            assert_eq!(case(query), TextCase::Pascal, "{query}");
        }
    }

    #[test]
    fn answers_are_written_in_the_case_asked_for_at_every_depth() {
        let answer =
            serde_json::json!({"ResponseStatus": {"ErrorCode": "NotEmpty", "Errors": [{"FieldName": "FirstName"}]}});
        assert_eq!(
            TextCase::Camel.apply(&answer),
            serde_json::json!({"responseStatus": {"errorCode": "NotEmpty", "errors": [{"fieldName": "FirstName"}]}})
        );
        assert_eq!(TextCase::Snake.name("PublicAccessGuid"), "public_access_guid");
        assert_eq!(TextCase::Pascal.apply(&answer), answer);
    }

    #[test]
    fn members_are_bound_without_regard_to_case_and_twice_is_refused() {
        let known = ["Segment", "FirstName"];
        let pairs =
            |list: &[(&str, i32)]| list.iter().map(|(k, v)| ((*k).to_owned(), Value::from(*v))).collect::<Vec<_>>();
        let folded = fold(&known, pairs(&[("segment", 1), ("FIRSTNAME", 2), ("Other", 3)])).unwrap();
        assert_eq!(folded.keys().collect::<Vec<_>>(), ["Segment", "FirstName", "Other"]);
        let twice = fold(&known, pairs(&[("segment", 1), ("SEGMENT", 2)])).unwrap_err();
        assert_eq!(twice.0.len(), 1);
        assert_eq!(twice.0[0].field, "Segment");
    }
}
