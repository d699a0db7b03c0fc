//! What the golden tests use to hold their files to the JSON Schemas in schema/.

use serde_json::Value;

/// A small JSON Schema checker: type, const, enum, required, properties, additionalProperties (false or
/// a schema), items, oneOf, $ref to #/$defs, minimum, maximum, minLength. (Patterns are not
/// checked.) Returns the first violation.
pub fn check(root: &Value, schema: &Value, value: &Value, path: &str) -> Result<(), String> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.strip_prefix("#/$defs/").unwrap();
        return check(root, &root["$defs"][name], value, path);
    }
    if let Some(options) = schema["oneOf"].as_array() {
        let matching = options
            .iter()
            .filter(|o| check(root, o, value, path).is_ok())
            .count();
        if matching != 1 {
            return Err(format!("{path}: {matching} oneOf branches match {value}"));
        }
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().map(|v| v.as_str().unwrap()).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "string" => value.is_string(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        });
        if !ok {
            return Err(format!("{path}: {value} is not {types:?}"));
        }
    }
    if let Some(expected) = schema.get("const")
        && expected != value
    {
        return Err(format!("{path}: {value} is not {expected}"));
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        return Err(format!("{path}: {value} not in {options:?}"));
    }
    if let (Some(min), Some(v)) = (schema["minimum"].as_f64(), value.as_f64())
        && v < min
    {
        return Err(format!("{path}: {v} < {min}"));
    }
    if let (Some(max), Some(v)) = (schema["maximum"].as_f64(), value.as_f64())
        && v > max
    {
        return Err(format!("{path}: {v} > {max}"));
    }
    if let (Some(min), Some(s)) = (schema["minLength"].as_u64(), value.as_str())
        && (s.chars().count() as u64) < min
    {
        return Err(format!("{path}: shorter than {min}"));
    }
    if let Some(object) = value.as_object() {
        for req in schema["required"].as_array().into_iter().flatten() {
            if !object.contains_key(req.as_str().unwrap()) {
                return Err(format!("{path}: missing {req}"));
            }
        }
        for (key, v) in object {
            let sub = format!("{path}.{key}");
            match schema["properties"].get(key) {
                Some(s) => check(root, s, v, &sub)?,
                None => match &schema["additionalProperties"] {
                    Value::Bool(false) => return Err(format!("{path}: unexpected {key}")),
                    s @ Value::Object(_) => check(root, s, v, &sub)?,
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, v) in array.iter().enumerate() {
            check(root, items, v, &format!("{path}[{i}]"))?;
        }
    }
    Ok(())
}
