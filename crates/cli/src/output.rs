//! Printing results as text for people or JSON for scripts.

use serde::Serialize;

pub struct Output {
    pub json: bool,
}

impl Output {
    /// Prints `value` as JSON, or runs `text` to print it for people.
    pub fn print<T: Serialize>(&self, value: &T, text: impl FnOnce(&T)) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value)?);
        } else {
            text(value);
        }
        Ok(())
    }

    /// Reports an error on stderr (as `{"error": …}` JSON on stdout with `--json`).
    pub fn error(&self, error: &anyhow::Error) {
        if self.json {
            let chain: Vec<String> = error.chain().map(ToString::to_string).collect();
            println!("{}", serde_json::json!({ "error": chain.join(": ") }));
        } else {
            eprintln!("error: {error:#}");
        }
    }
}
