//! What an upload really is, decided by its content and never by its name or declared type:
//! the format from its magic bytes, then a full decode (with size limits, so a small file
//! cannot claim a huge canvas) for the dimensions and to prove it is a whole image.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};

/// The largest upload accepted, whatever the platform (X's GIF limit).
pub const MAX_UPLOAD_BYTES: usize = 15 * 1024 * 1024;
/// Larger canvases are refused before decoding.
const MAX_SIDE: u32 = 8192;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probed {
    pub mime: &'static str,
    pub extension: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Why a file was refused, in words for the person who uploaded it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProbeError {
    #[error("The file is empty.")]
    Empty,
    #[error("The file is {size_mb:.1} MB; the limit is {limit_mb} MB.")]
    TooLarge { size_mb: f64, limit_mb: usize },
    #[error("This is not a JPEG, PNG, WebP or GIF image.")]
    NotAnImage,
    #[error("The image is {width}×{height} pixels; the limit is {MAX_SIDE} on each side.")]
    TooManyPixels { width: u32, height: u32 },
    #[error("The image is damaged or cut short and cannot be read ({0}).")]
    Damaged(String),
}

pub fn probe(bytes: &[u8]) -> Result<Probed, ProbeError> {
    if bytes.is_empty() {
        return Err(ProbeError::Empty);
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(ProbeError::TooLarge {
            size_mb: bytes.len() as f64 / (1024.0 * 1024.0),
            limit_mb: MAX_UPLOAD_BYTES / (1024 * 1024),
        });
    }
    let format = image::guess_format(bytes).map_err(|_| ProbeError::NotAnImage)?;
    let (mime, extension) = match format {
        ImageFormat::Jpeg => ("image/jpeg", "jpg"),
        ImageFormat::Png => ("image/png", "png"),
        ImageFormat::WebP => ("image/webp", "webp"),
        ImageFormat::Gif => ("image/gif", "gif"),
        _ => return Err(ProbeError::NotAnImage),
    };
    let reader = || {
        let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
        let mut limits = Limits::default();
        limits.max_image_width = Some(MAX_SIDE);
        limits.max_image_height = Some(MAX_SIDE);
        reader.limits(limits);
        reader
    };
    let (width, height) = reader()
        .into_dimensions()
        .map_err(|error| ProbeError::Damaged(error.to_string()))?;
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(ProbeError::TooManyPixels { width, height });
    }
    reader()
        .decode()
        .map_err(|error| ProbeError::Damaged(error.to_string()))?;
    Ok(Probed {
        mime,
        extension,
        width,
        height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_pixel(width, height, image::Rgb([200, 80, 20]));
        let mut bytes = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .unwrap();
        bytes
    }

    #[test]
    fn a_real_image_is_measured() {
        let probed = probe(&png(3, 2)).unwrap();
        assert_eq!(
            (probed.mime, probed.width, probed.height),
            ("image/png", 3, 2)
        );
    }

    #[test]
    fn names_and_declared_types_do_not_matter_only_content() {
        assert!(matches!(
            probe(b"GIF89a but not really"),
            Err(ProbeError::Damaged(_))
        ));
        assert_eq!(probe(b"%PDF-1.7"), Err(ProbeError::NotAnImage));
        assert_eq!(probe(b""), Err(ProbeError::Empty));
    }

    #[test]
    fn a_cut_short_image_is_refused() {
        let bytes = png(64, 64);
        assert!(matches!(
            probe(&bytes[..bytes.len() / 2]),
            Err(ProbeError::Damaged(_))
        ));
    }
}
