//! The preview QR code for people: WeChat sends a JPEG; we read the code's content back from it and
//! render it again as a PNG file and as Unicode half-blocks for the terminal (a job log has no
//! images, and GitHub strips `data:` images from summaries).

use qrcode::{Color, QrCode};

/// Reads the content of the QR code in a JPEG or PNG image.
pub fn decode(image: &[u8]) -> Option<String> {
    let (w, h, luma) = if image.starts_with(&[0xFF, 0xD8]) {
        // zune-jpeg converts to grey itself (the QR reader wants one byte a pixel).
        let options = zune_core::options::DecoderOptions::default()
            .jpeg_set_out_colorspace(zune_core::colorspace::ColorSpace::Luma);
        let mut d = zune_jpeg::JpegDecoder::new_with_options(
            zune_core::bytestream::ZCursor::new(image),
            options,
        );
        let luma = d.decode().ok()?;
        let info = d.info()?;
        let (w, h) = (usize::from(info.width), usize::from(info.height));
        if luma.len() < w * h {
            return None;
        }
        (w, h, luma)
    } else {
        let mut reader = png::Decoder::new(std::io::Cursor::new(image))
            .read_info()
            .ok()?;
        let mut buf = vec![0; reader.output_buffer_size()?];
        let frame = reader.next_frame(&mut buf).ok()?;
        let step = frame.color_type.samples();
        let luma = buf[..frame.buffer_size()]
            .chunks(step)
            .map(|p| p[0])
            .collect();
        (frame.width as usize, frame.height as usize, luma)
    };
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| luma[y * w + x]);
    prepared
        .detect_grids()
        .into_iter()
        .find_map(|g| g.decode().ok().map(|(_, content)| content))
}

fn modules(content: &str) -> Option<(usize, Vec<bool>)> {
    let code = QrCode::new(content.as_bytes()).ok()?;
    Some((
        code.width(),
        code.to_colors()
            .into_iter()
            .map(|c| c == Color::Dark)
            .collect(),
    ))
}

/// The code as Unicode half-blocks (two modules per character row), with a quiet zone.
pub fn terminal(content: &str) -> Option<String> {
    let (n, dark) = modules(content)?;
    let quiet = 2;
    let size = n + 2 * quiet;
    let at = |x: usize, y: usize| {
        x >= quiet
            && y >= quiet
            && x < n + quiet
            && y < n + quiet
            && dark[(y - quiet) * n + (x - quiet)]
    };
    let mut out = String::new();
    for y in (0..size).step_by(2) {
        for x in 0..size {
            out.push(match (at(x, y), at(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
    }
    Some(out)
}

/// The code as a greyscale PNG (8 pixels per module, 4 modules of quiet zone).
pub fn png(content: &str) -> Option<Vec<u8>> {
    let (n, dark) = modules(content)?;
    let (scale, quiet) = (8, 4);
    let side = (n + 2 * quiet) * scale;
    let mut pixels = vec![255u8; side * side];
    for (i, d) in dark.iter().enumerate() {
        if *d {
            let (mx, my) = (i % n + quiet, i / n + quiet);
            for y in my * scale..(my + 1) * scale {
                pixels[y * side + mx * scale..y * side + (mx + 1) * scale].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    {
        let side32 = u32::try_from(side).ok()?;
        let mut enc = png::Encoder::new(&mut out, side32, side32);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        enc.write_header().ok()?.write_image_data(&pixels).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trips_through_the_decoder_and_renders_for_a_terminal() {
        let content = "https://open.weixin.qq.com/sns/getexpappinfo?appid=wx1&path=pages%2Findex#wechat-redirect";
        let image = png(content).unwrap();
        assert!(image.starts_with(b"\x89PNG"));
        assert_eq!(decode(&image).as_deref(), Some(content));
        let t = terminal(content).unwrap();
        assert!(t.contains('█') && t.contains('▀') && t.lines().count() > 10);
        assert_eq!(decode(b"not an image"), None);
    }
}
