//! What the app reads from a photo without a model, for the basic writer: its size, its main
//! colours by name, and the day it was taken if its EXIF data says. And the photo as a model is
//! sent it: small enough that ten of them stay well inside Gemini's inline limit, as a model
//! sees no more in a larger one.

use std::io::Cursor;

use chrono::NaiveDate;
use image::{ImageDecoder as _, ImageReader};

use super::brief::ImageFacts;

/// Colours a person would name, as sRGB. A pixel takes the name of the nearest.
const NAMED_COLOURS: [(&str, [u8; 3]); 22] = [
    ("black", [20, 20, 20]),
    ("charcoal", [64, 64, 64]),
    ("grey", [128, 128, 128]),
    ("silver", [192, 192, 192]),
    ("white", [245, 245, 245]),
    ("cream", [240, 230, 200]),
    ("beige", [215, 195, 160]),
    ("brown", [120, 75, 40]),
    ("terracotta", [195, 100, 65]),
    ("red", [200, 30, 40]),
    ("pink", [240, 150, 180]),
    ("orange", [240, 140, 30]),
    ("mustard", [215, 170, 40]),
    ("yellow", [245, 225, 60]),
    ("olive", [120, 125, 45]),
    ("green", [50, 140, 60]),
    ("sage", [160, 180, 145]),
    ("teal", [30, 120, 125]),
    ("sky blue", [130, 190, 235]),
    ("blue", [40, 90, 200]),
    ("deep blue", [20, 40, 100]),
    ("purple", [120, 60, 150]),
];
/// A colour must cover this share of the photo to be named.
const NAMED_SHARE: f64 = 0.15;
/// The photo is looked at this small: enough for its main colours, and quick.
const THUMBNAIL_SIDE: u32 = 48;
/// The longest side of a photo sent to a model.
const MODEL_SIDE: u32 = 1_024;
/// A photo larger than this is sent re-encoded, whatever its size in pixels.
const MODEL_BYTES: usize = 1024 * 1024;
/// JPEG quality of a re-encoded photo: no visible loss at the size a model looks at.
const MODEL_JPEG_QUALITY: u8 = 85;

/// A photo as a model is sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelPhoto {
    pub mime: String,
    pub bytes: Vec<u8>,
}

/// The facts of a photo and the photo for a model, from one decode. A photo that does not
/// decode has no facts and goes as it is (the media library accepted it, so the model may
/// still read it).
pub fn prepare(bytes: &[u8], mime: &str) -> (ImageFacts, ModelPhoto) {
    let as_it_is = || ModelPhoto {
        mime: mime.to_owned(),
        bytes: bytes.to_vec(),
    };
    let Ok(image) = image::load_from_memory(bytes) else {
        return (ImageFacts::default(), as_it_is());
    };
    let facts = ImageFacts {
        width: image.width(),
        height: image.height(),
        colours: main_colours(&image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE).to_rgb8()),
        taken_on: taken_on(bytes),
    };
    let small_enough =
        image.width().max(image.height()) <= MODEL_SIDE && bytes.len() <= MODEL_BYTES;
    if small_enough {
        return (facts, as_it_is());
    }
    let smaller = image
        .resize(
            MODEL_SIDE,
            MODEL_SIDE,
            image::imageops::FilterType::Triangle,
        )
        .to_rgb8();
    let mut jpeg = Vec::new();
    let encoded = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, MODEL_JPEG_QUALITY)
        .encode_image(&smaller);
    match encoded {
        Ok(()) => (
            facts,
            ModelPhoto {
                mime: "image/jpeg".to_owned(),
                bytes: jpeg,
            },
        ),
        Err(_) => (facts, as_it_is()),
    }
}

/// The facts of `bytes` (a JPEG, PNG, WebP or GIF already accepted by the media library); what
/// cannot be read is left out.
pub fn read_facts(bytes: &[u8]) -> ImageFacts {
    prepare(bytes, "").0
}

/// The names of the colours covering at least [`NAMED_SHARE`] of the picture, most first, two
/// at most.
fn main_colours(pixels: &image::RgbImage) -> Vec<String> {
    let mut counts = [0usize; NAMED_COLOURS.len()];
    for pixel in pixels.pixels() {
        counts[nearest_colour(pixel.0)] += 1;
    }
    let total = pixels.pixels().len().max(1) as f64;
    let mut ranked: Vec<(usize, usize)> = counts.into_iter().enumerate().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked
        .into_iter()
        .take_while(|(_, count)| *count as f64 / total >= NAMED_SHARE)
        .take(2)
        .map(|(index, _)| NAMED_COLOURS[index].0.to_owned())
        .collect()
}

fn nearest_colour(rgb: [u8; 3]) -> usize {
    let distance = |named: [u8; 3]| -> i32 {
        // Weighted for the eye, which tells greens apart best and blues worst.
        let [dr, dg, db] = [0, 1, 2].map(|at| i32::from(rgb[at]) - i32::from(named[at]));
        2 * dr * dr + 4 * dg * dg + 3 * db * db
    };
    NAMED_COLOURS
        .iter()
        .enumerate()
        .min_by_key(|(_, (_, named))| distance(*named))
        .map_or(0, |(index, _)| index)
}

/// The first date-time stamp in the photo's EXIF block (`YYYY:MM:DD HH:MM:SS`, the format EXIF
/// writes every date in; cameras write the moment of taking first).
fn taken_on(bytes: &[u8]) -> Option<NaiveDate> {
    let mut decoder = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .ok()?
        .into_decoder()
        .ok()?;
    let exif = decoder.exif_metadata().ok()??;
    exif.windows(19).find_map(|window| {
        let stamp = std::str::from_utf8(window).ok()?;
        chrono::NaiveDateTime::parse_from_str(stamp, "%Y:%m:%d %H:%M:%S")
            .ok()
            .map(|at| at.date())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32, paint: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
        let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb(paint(x, y)));
        let mut bytes = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
            .unwrap();
        bytes
    }

    #[test]
    fn the_main_colours_are_named_most_first() {
        let bytes = png(60, 40, |x, _| {
            if x < 40 {
                [25, 45, 105]
            } else {
                [238, 228, 198]
            }
        });
        let facts = read_facts(&bytes);
        assert_eq!((facts.width, facts.height), (60, 40));
        assert_eq!(facts.colours, ["deep blue", "cream"]);
        assert_eq!(facts.taken_on, None);
    }

    #[test]
    fn a_colour_under_its_share_is_not_named() {
        let bytes = png(
            100,
            10,
            |x, _| if x < 95 { [200, 30, 40] } else { [50, 140, 60] },
        );
        assert_eq!(read_facts(&bytes).colours, ["red"]);
    }

    #[test]
    fn a_large_photo_goes_to_the_model_smaller_and_a_small_one_as_it_is() {
        let large = png(3000, 2000, |x, y| [(x % 256) as u8, (y % 256) as u8, 90]);
        let (facts, photo) = prepare(&large, "image/png");
        assert_eq!((facts.width, facts.height), (3000, 2000));
        assert_eq!(photo.mime, "image/jpeg");
        let sent = image::load_from_memory(&photo.bytes).unwrap();
        assert_eq!((sent.width(), sent.height()), (1024, 683));

        let small = png(60, 40, |_, _| [25, 45, 105]);
        let (_, photo) = prepare(&small, "image/png");
        assert_eq!(
            photo,
            ModelPhoto {
                mime: "image/png".into(),
                bytes: small
            }
        );
    }

    #[test]
    fn what_is_not_an_image_has_no_facts() {
        assert_eq!(read_facts(b"not an image"), ImageFacts::default());
    }
}
