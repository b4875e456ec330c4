//! Build script: compiles the app's Tauri context from the workspace-root `tauri.conf.json`,
//! the single source of the desktop configuration.

fn main() {
    let attributes = tauri_build::Attributes::new().config_path("../tauri.conf.json");
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri build step failed: {error:#}");
    }
}
