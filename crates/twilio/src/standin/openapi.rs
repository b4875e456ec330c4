//! Checks requests and answers against Twilio's OpenAPI description (the subset of it
//! this crate uses, `spec/twilio_api_v2010.subset.json`, cut from the full description
//! by [`subset`]).
//!
//! Our own checker rather than a JSON Schema crate: Twilio's description is OpenAPI
//! 3.0, whose schemas are not JSON Schema (`nullable`, Twilio's own formats such as
//! `date-time-rfc-2822`), and its form-encoded request bodies need their text turned into
//! typed values first. The checker knows the keywords the description uses and treats
//! any other as a failure, so nothing passes unchecked.

use regex::Regex;
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

/// The paths (operations) the client and the stand-in use.
pub const PATHS: &[&str] = &[
    "/2010-04-01/Accounts/{AccountSid}/SIP/Domains.json",
    "/2010-04-01/Accounts/{AccountSid}/SIP/Domains/{Sid}.json",
    "/2010-04-01/Accounts/{AccountSid}/SIP/CredentialLists.json",
    "/2010-04-01/Accounts/{AccountSid}/SIP/CredentialLists/{CredentialListSid}/Credentials.json",
    "/2010-04-01/Accounts/{AccountSid}/SIP/CredentialLists/{CredentialListSid}/Credentials/{Sid}.json",
    "/2010-04-01/Accounts/{AccountSid}/SIP/Domains/{DomainSid}/Auth/Registrations/CredentialListMappings.json",
    "/2010-04-01/Accounts/{AccountSid}/SIP/Domains/{DomainSid}/Auth/Calls/CredentialListMappings.json",
    "/2010-04-01/Accounts/{AccountSid}/Calls.json",
    "/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json",
    "/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}/Recordings.json",
    "/2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json",
    "/2010-04-01/Accounts/{AccountSid}/Messages.json",
    "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
];

/// The committed subset.
const SUBSET: &str = include_str!("../../spec/twilio_api_v2010.subset.json");

/// Prose and examples the checker does not need; dropped from the subset.
const PROSE: &[&str] = &[
    "description",
    "summary",
    "examples",
    "example",
    "headers",
    "x-twilio",
    "servers",
    "tags",
];

/// The description's paths in `PATHS`, and every component schema they reach, without
/// prose: what `spec/twilio_api_v2010.subset.json` holds.
pub fn subset(full: &Value) -> Result<Value, String> {
    let mut paths = Map::new();
    for path in PATHS {
        let item = full["paths"]
            .get(*path)
            .ok_or_else(|| format!("{path} is not in the description"))?;
        paths.insert((*path).to_owned(), strip(item));
    }
    let mut wanted: BTreeSet<String> = BTreeSet::new();
    collect_refs(&Value::Object(paths.clone()), &mut wanted);
    let mut schemas = Map::new();
    let mut queue: Vec<String> = wanted.iter().cloned().collect();
    while let Some(name) = queue.pop() {
        if schemas.contains_key(&name) {
            continue;
        }
        let schema = full["components"]["schemas"]
            .get(&name)
            .ok_or_else(|| format!("schema {name} is not in the description"))?;
        let schema = strip(schema);
        let mut more = BTreeSet::new();
        collect_refs(&schema, &mut more);
        queue.extend(more.into_iter().filter(|n| !schemas.contains_key(n)));
        schemas.insert(name, schema);
    }
    let mut doc = Map::new();
    doc.insert("openapi".into(), full["openapi"].clone());
    doc.insert("info".into(), full["info"].clone());
    doc.insert("paths".into(), Value::Object(paths));
    let mut components = Map::new();
    components.insert("schemas".into(), Value::Object(schemas));
    doc.insert("components".into(), Value::Object(components));
    Ok(Value::Object(doc))
}

fn strip(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| !PROSE.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), strip(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip).collect()),
        other => other.clone(),
    }
}

fn collect_refs(value: &Value, into: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref")
                && let Some(name) = r.strip_prefix("#/components/schemas/")
            {
                into.insert(name.to_owned());
            }
            map.values().for_each(|v| collect_refs(v, into));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, into)),
        _ => {}
    }
}

/// An operation found for a request.
#[derive(Clone, Debug)]
pub struct Operation {
    /// The path template, e.g. `/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json`.
    pub template: String,
    /// Path parameters by name.
    pub params: HashMap<String, String>,
}

/// The description, ready to check against.
pub struct Spec {
    doc: Value,
    patterns: Mutex<HashMap<String, Regex>>,
}

impl Spec {
    /// The committed subset.
    pub fn load() -> Result<Spec, String> {
        let doc = serde_json::from_str(SUBSET).map_err(|e| format!("the subset: {e}"))?;
        Ok(Spec {
            doc,
            patterns: Mutex::new(HashMap::new()),
        })
    }

    /// The template `path` matches, and its parameters.
    pub fn find(&self, path: &str) -> Option<Operation> {
        let segments: Vec<&str> = path.split('/').collect();
        self.doc["paths"].as_object()?.keys().find_map(|template| {
            let parts: Vec<&str> = template.split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut params = HashMap::new();
            for (part, segment) in parts.iter().zip(&segments) {
                match part.strip_prefix('{').and_then(|p| p.split_once('}')) {
                    // "{Sid}.json" matches "CA….json".
                    Some((name, suffix)) => {
                        let value = segment.strip_suffix(suffix)?;
                        if value.is_empty() {
                            return None;
                        }
                        params.insert(name.to_owned(), value.to_owned());
                    }
                    None if part == segment => {}
                    None => return None,
                }
            }
            Some(Operation {
                template: template.clone(),
                params,
            })
        })
    }

    fn operation(&self, op: &Operation, method: &str) -> Option<&Value> {
        self.doc["paths"][&op.template].get(method.to_ascii_lowercase())
    }

    /// What is wrong with a request: the method, path and query parameters, and the
    /// form body. Empty when it matches the description.
    pub fn check_request(
        &self,
        op: &Operation,
        method: &str,
        query: &[(String, String)],
        form: &[(String, String)],
    ) -> Vec<String> {
        let mut errors = Vec::new();
        let Some(operation) = self.operation(op, method) else {
            return vec![format!("{method} {} is not an operation", op.template)];
        };
        let parameters = operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for parameter in &parameters {
            let name = parameter["name"].as_str().unwrap_or_default();
            if parameter["in"] == "path" {
                match op.params.get(name) {
                    Some(value) => self.check(
                        &parameter["schema"],
                        &Value::String(value.clone()),
                        &format!("path parameter {name}"),
                        &mut errors,
                    ),
                    None => errors.push(format!("path parameter {name} is missing")),
                }
            }
        }
        for (name, value) in query {
            match parameters
                .iter()
                .find(|p| p["in"] == "query" && p["name"] == name.as_str())
            {
                Some(parameter) => {
                    let typed = typed(&parameter["schema"], std::slice::from_ref(value));
                    self.check(
                        &parameter["schema"],
                        &typed,
                        &format!("query parameter {name}"),
                        &mut errors,
                    );
                }
                None => errors.push(format!(
                    "query parameter {name} is not a parameter of {method} {}",
                    op.template
                )),
            }
        }
        let body =
            &operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"];
        if body.is_null() {
            if !form.is_empty() {
                errors.push(format!("{method} {} takes no form body", op.template));
            }
            return errors;
        }
        let mut fields: Vec<(&str, Vec<String>)> = Vec::new();
        for (name, value) in form {
            match fields.iter_mut().find(|(n, _)| n == name) {
                Some((_, values)) => values.push(value.clone()),
                None => fields.push((name, vec![value.clone()])),
            }
        }
        let mut object = Map::new();
        for (name, values) in &fields {
            let schema = self.resolve(&body["properties"][*name]);
            if schema.is_null() {
                errors.push(format!(
                    "form field {name} is not a field of {method} {}",
                    op.template
                ));
                continue;
            }
            object.insert((*name).to_owned(), typed(schema, values));
        }
        self.check(body, &Value::Object(object), "form", &mut errors);
        errors
    }

    /// What is wrong with an answer: its status is one the operation documents and its
    /// JSON body matches that status's schema.
    pub fn check_response(
        &self,
        op: &Operation,
        method: &str,
        status: u16,
        body: Option<&Value>,
    ) -> Vec<String> {
        let mut errors = Vec::new();
        let Some(operation) = self.operation(op, method) else {
            return vec![format!("{method} {} is not an operation", op.template)];
        };
        let Some(response) = operation["responses"].get(status.to_string()) else {
            // Errors carry Twilio's error body, which the description leaves out.
            if status >= 400 {
                return errors;
            }
            return vec![format!("{method} {} does not answer {status}", op.template)];
        };
        let schema = &response["content"]["application/json"]["schema"];
        match (schema.is_null(), body) {
            (true, None) => {}
            (true, Some(_)) => errors.push(format!("{status} has no body in the description")),
            (false, None) => errors.push(format!("{status} needs a JSON body")),
            (false, Some(body)) => self.check(schema, body, "body", &mut errors),
        }
        errors
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
        {
            Some(name) => &self.doc["components"]["schemas"][name],
            None => schema,
        }
    }

    fn check(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let Some(map) = schema.as_object() else {
            errors.push(format!("{at}: the description has no schema here"));
            return;
        };
        if value.is_null() {
            let nullable = map.get("nullable") == Some(&Value::Bool(true));
            if !nullable {
                errors.push(format!(
                    "{at}: null where the description does not allow it"
                ));
            }
            return;
        }
        if map.contains_key("$ref") {
            let target = self.resolve(schema);
            if target.is_null() {
                errors.push(format!("{at}: unknown reference {}", map["$ref"]));
            } else {
                self.check(target, value, at, errors);
            }
            return;
        }
        for key in map.keys() {
            const KNOWN: &[&str] = &[
                "type",
                "format",
                "enum",
                "pattern",
                "minLength",
                "maxLength",
                "nullable",
                "properties",
                "items",
                "required",
                "title",
                "minimum",
                "maximum",
                "default",
            ];
            // `x-…` keys are vendor annotations, which OpenAPI says carry no constraint.
            if !KNOWN.contains(&key.as_str()) && !key.starts_with("x-") {
                errors.push(format!(
                    "{at}: the checker does not know the keyword {key:?}"
                ));
            }
        }
        let kind = map.get("type").and_then(Value::as_str);
        let type_ok = match kind {
            None => true,
            Some("string") => value.is_string(),
            Some("integer") => value.is_i64() || value.is_u64(),
            Some("number") => value.is_number(),
            Some("boolean") => value.is_boolean(),
            Some("object") => value.is_object(),
            Some("array") => value.is_array(),
            Some(other) => {
                errors.push(format!("{at}: unknown type {other:?}"));
                return;
            }
        };
        if !type_ok {
            errors.push(format!(
                "{at}: {value} is not of type {}",
                kind.unwrap_or("?")
            ));
            return;
        }
        if let Some(options) = map.get("enum").and_then(Value::as_array)
            && !options.contains(value)
        {
            errors.push(format!(
                "{at}: {value} is not one of {}",
                Value::Array(options.clone())
            ));
        }
        if let Some(text) = value.as_str() {
            self.check_string(map, text, at, errors);
        }
        if let Some(object) = value.as_object() {
            let properties = map.get("properties").and_then(Value::as_object);
            for (name, field) in object {
                match properties.and_then(|p| p.get(name)) {
                    Some(schema) => self.check(schema, field, &format!("{at}.{name}"), errors),
                    None if properties.is_some() => {
                        errors.push(format!("{at}.{name}: not in the description"));
                    }
                    // A free-form object (`uri-map`, `phone-number-capabilities`).
                    None => {}
                }
            }
            for name in map
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(name) = name.as_str()
                    && !object.contains_key(name)
                {
                    errors.push(format!("{at}.{name}: required"));
                }
            }
        }
        if let (Some(items), Some(schema)) = (value.as_array(), map.get("items")) {
            for (i, item) in items.iter().enumerate() {
                self.check(schema, item, &format!("{at}[{i}]"), errors);
            }
        }
    }

    fn check_string(
        &self,
        map: &Map<String, Value>,
        text: &str,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        let chars = text.chars().count() as u64;
        if let Some(min) = map.get("minLength").and_then(Value::as_u64)
            && chars < min
        {
            errors.push(format!("{at}: {text:?} is shorter than {min}"));
        }
        if let Some(max) = map.get("maxLength").and_then(Value::as_u64)
            && chars > max
        {
            errors.push(format!("{at}: {text:?} is longer than {max}"));
        }
        if let Some(pattern) = map.get("pattern").and_then(Value::as_str) {
            let mut cache = self.patterns.lock().unwrap_or_else(|p| p.into_inner());
            if !cache.contains_key(pattern) {
                match Regex::new(pattern) {
                    Ok(regex) => {
                        cache.insert(pattern.to_owned(), regex);
                    }
                    Err(e) => {
                        errors.push(format!("{at}: pattern {pattern:?} does not compile: {e}"));
                        return;
                    }
                }
            }
            if cache.get(pattern).is_some_and(|r| !r.is_match(text)) {
                errors.push(format!("{at}: {text:?} does not match {pattern}"));
            }
        }
        let format_ok = match map.get("format").and_then(Value::as_str) {
            // Constrained by an enum, or free text in Twilio's use ("endpoint": a number,
            // SIP address or client name; "phone-number": as the account spells it).
            None | Some("http-method") | Some("phone-number") | Some("endpoint") => true,
            Some("twiml") => text.trim_start().starts_with('<'),
            Some("date") => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(),
            Some("int64") => text.parse::<i64>().is_ok(),
            Some("uri") => text.starts_with('/') || url::Url::parse(text).is_ok(),
            Some("date-time-rfc-2822") => chrono::DateTime::parse_from_rfc2822(text).is_ok(),
            Some("date-time") => chrono::DateTime::parse_from_rfc3339(text).is_ok(),
            Some("currency") => text.len() == 3 && text.bytes().all(|b| b.is_ascii_alphabetic()),
            Some(other) => {
                errors.push(format!(
                    "{at}: the checker does not know the format {other:?}"
                ));
                true
            }
        };
        if !format_ok {
            errors.push(format!("{at}: {text:?} is not a valid {}", map["format"]));
        }
    }
}

/// A form or query value as the type its schema names: "true" → true, "25" → 25, and
/// repeated fields → an array.
fn typed(schema: &Value, values: &[String]) -> Value {
    let one = |kind: Option<&str>, text: &str| -> Value {
        match kind {
            Some("boolean") => match text {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::String(text.to_owned()),
            },
            Some("integer") => text
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(text.to_owned())),
            Some("number") => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(text.to_owned())),
            _ => Value::String(text.to_owned()),
        }
    };
    let kind = schema["type"].as_str();
    if kind == Some("array") {
        let item_kind = schema["items"]["type"].as_str();
        return Value::Array(values.iter().map(|v| one(item_kind, v)).collect());
    }
    match values {
        [single] => one(kind, single),
        many => Value::Array(many.iter().map(|v| one(kind, v)).collect()),
    }
}
