//! The trial QR code as a real JPEG (what `wxa/get_qrcode` returns).

use qrcode::{Color, QrCode};

/// Pixels per QR module, and the quiet zone in modules.
const SCALE: usize = 6;
const QUIET: usize = 4;

/// Encodes `content` as a greyscale JPEG QR code; `None` if the content does not fit a QR code.
pub fn jpeg(content: &str) -> Option<Vec<u8>> {
    let code = QrCode::new(content.as_bytes()).ok()?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, c) in colors.iter().enumerate() {
        if *c == Color::Dark {
            let (mx, my) = (i % modules + QUIET, i / modules + QUIET);
            for y in my * SCALE..(my + 1) * SCALE {
                pixels[y * side + mx * SCALE..y * side + (mx + 1) * SCALE].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    let side16 = u16::try_from(side).ok()?;
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(&pixels, side16, side16, jpeg_encoder::ColorType::Luma)
        .ok()?;
    Some(out)
}
