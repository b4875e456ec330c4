//! Converts a CTranslate2 Whisper model directory to a ggml file:
//! `cargo run --release -p cuecard-models --example convert_ct2 -- DIR OUT`.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(dir), Some(out)) = (args.next(), args.next()) else {
        return Err("usage: convert_ct2 DIR OUT".into());
    };
    let started = std::time::Instant::now();
    let h = cuecard_models::convert::convert_ct2_dir(dir.as_ref(), out.as_ref())?;
    println!("{} in {:?}: {h:?}", h.size_name(), started.elapsed());
    Ok(())
}
