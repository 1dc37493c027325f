//! The product catalogue inside every store fake: products with variants, prices, stock,
//! images and change times, made up deterministically (10,000 of them in a blink), and the
//! changes a shop owner makes between two syncs (sell out, reprice, archive, delete, add).
//!
//! Each store fake renders these in its own API's shape; images are served by the fake at
//! [`FakeImage::path`] as small PNGs from [`image_png`], so a product's pictures can really be
//! downloaded from 127.0.0.1.

use chrono::{DateTime, Duration, Utc};

const ADJECTIVES: &[&str] = &[
    "Speckled",
    "Linen",
    "Walnut",
    "Hand-thrown",
    "Indigo",
    "Waxed",
    "Copper",
    "Woven",
    "Oak",
    "Glazed",
    "Felted",
    "Brass",
    "Marbled",
    "Rustic",
    "Pressed",
    "Sage",
];
const THINGS: &[&str] = &[
    "Mug",
    "Tote Bag",
    "Serving Board",
    "Candle",
    "Planter",
    "Scarf",
    "Notebook",
    "Bowl",
    "Earrings",
    "Print",
    "Apron",
    "Vase",
    "Coasters",
    "Soap Bar",
    "Blanket",
    "Lamp",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeProductState {
    Active,
    Archived,
    Draft,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeVariant {
    pub id: u64,
    pub sku: String,
    pub price_minor: i64,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeImage {
    pub id: u64,
    pub product_id: u64,
    /// Position among the product's images, from 0.
    pub rank: u32,
    pub alt: String,
}

impl FakeImage {
    /// Where the fake serves it, relative to the fake's base URL.
    pub fn path(&self) -> String {
        format!("/images/{}/{}.png", self.product_id, self.rank)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeProduct {
    pub id: u64,
    pub title: String,
    /// URL slug: `speckled-mug-17`.
    pub handle: String,
    pub description_html: String,
    pub state: FakeProductState,
    pub tags: Vec<String>,
    pub variants: Vec<FakeVariant>,
    pub images: Vec<FakeImage>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl FakeProduct {
    pub fn total_quantity(&self) -> i64 {
        self.variants.iter().map(|variant| variant.quantity).sum()
    }

    pub fn sold_out(&self) -> bool {
        self.total_quantity() <= 0
    }

    pub fn lowest_price(&self) -> i64 {
        self.variants
            .iter()
            .map(|variant| variant.price_minor)
            .min()
            .unwrap_or(0)
    }
}

/// One shop's products, in id order (the order store APIs page in by default).
#[derive(Debug, Clone)]
pub struct Catalogue {
    products: Vec<FakeProduct>,
    next_id: u64,
    pub currency: String,
}

impl Catalogue {
    /// `count` made-up products priced in `currency`, changed at times spread over the 90 days
    /// before `now`. The same arguments make the same catalogue.
    pub fn generate(count: usize, currency: &str, now: DateTime<Utc>) -> Self {
        let mut catalogue = Self {
            products: Vec::with_capacity(count),
            next_id: 1001,
            currency: currency.to_owned(),
        };
        for index in 0..count {
            let adjective = ADJECTIVES[index % ADJECTIVES.len()];
            let thing = THINGS[(index / ADJECTIVES.len()) % THINGS.len()];
            let title = format!("{adjective} {thing} No. {}", index + 1);
            // A spread of prices from 4.50 to about 120, and some products in two sizes.
            let price = 450 + ((index as i64 * 7919) % 11_500);
            let quantity = ((index as i64 * 31) % 40) - 3;
            let variants = if index % 5 == 0 { 2 } else { 1 };
            let images = 1 + (index % 3) as u32;
            let created = now - Duration::minutes(((count - index) as i64) * 13 + 60 * 24 * 90 / 2);
            let updated = now - Duration::minutes(((index as i64 * 104_729) % (60 * 24 * 90)) + 1);
            catalogue.insert(
                &title,
                price,
                quantity.max(0),
                variants,
                images,
                created.min(updated),
                updated,
            );
        }
        catalogue
    }

    #[allow(clippy::too_many_arguments)]
    fn insert(
        &mut self,
        title: &str,
        price_minor: i64,
        quantity: i64,
        variants: u32,
        images: u32,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let handle = format!("{}-{id}", slug(title));
        let product = FakeProduct {
            id,
            description_html: format!(
                "<p>{title}, made by hand in small batches.</p><p>Each one is a little different &amp; ships in 2&nbsp;days.</p>"
            ),
            title: title.to_owned(),
            handle,
            state: FakeProductState::Active,
            tags: vec![
                "handmade".into(),
                slug(title.split(' ').nth(1).unwrap_or("gift")),
            ],
            variants: (0..variants.max(1))
                .map(|n| FakeVariant {
                    id: id * 100 + u64::from(n),
                    sku: format!("SKU-{id}-{}", ["S", "L", "XL"][n as usize % 3]),
                    price_minor: price_minor + i64::from(n) * 500,
                    quantity,
                })
                .collect(),
            images: (0..images)
                .map(|rank| FakeImage {
                    id: id * 10 + u64::from(rank),
                    product_id: id,
                    rank,
                    alt: format!("{title}, photo {}", rank + 1),
                })
                .collect(),
            created_at,
            updated_at,
        };
        self.products.push(product);
        id
    }

    /// A new active product, as if the owner had just listed it.
    pub fn add(&mut self, title: &str, price_minor: i64, quantity: i64, now: DateTime<Utc>) -> u64 {
        self.insert(title, price_minor, quantity, 1, 1, now, now)
    }

    pub fn products(&self) -> &[FakeProduct] {
        &self.products
    }

    pub fn len(&self) -> usize {
        self.products.len()
    }

    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }

    pub fn get(&self, id: u64) -> Option<&FakeProduct> {
        self.products
            .binary_search_by_key(&id, |product| product.id)
            .ok()
            .map(|index| &self.products[index])
    }

    /// A product's id by its position (0 is the first), for tests that pick "some product".
    pub fn id_at(&self, index: usize) -> Option<u64> {
        self.products.get(index).map(|product| product.id)
    }

    fn change(&mut self, id: u64, now: DateTime<Utc>, edit: impl FnOnce(&mut FakeProduct)) -> bool {
        let Ok(index) = self
            .products
            .binary_search_by_key(&id, |product| product.id)
        else {
            return false;
        };
        let product = &mut self.products[index];
        edit(product);
        product.updated_at = now;
        true
    }

    /// Every variant's stock to zero.
    pub fn sell_out(&mut self, id: u64, now: DateTime<Utc>) -> bool {
        self.change(id, now, |product| {
            for variant in &mut product.variants {
                variant.quantity = 0;
            }
        })
    }

    /// Every variant's stock to `quantity`.
    pub fn restock(&mut self, id: u64, quantity: i64, now: DateTime<Utc>) -> bool {
        self.change(id, now, |product| {
            for variant in &mut product.variants {
                variant.quantity = quantity;
            }
        })
    }

    /// The first variant's price (the others keep their difference to it).
    pub fn set_price(&mut self, id: u64, price_minor: i64, now: DateTime<Utc>) -> bool {
        self.change(id, now, |product| {
            let base = product
                .variants
                .first()
                .map_or(0, |first| first.price_minor);
            for variant in &mut product.variants {
                variant.price_minor = price_minor + (variant.price_minor - base);
            }
        })
    }

    pub fn set_title(&mut self, id: u64, title: &str, now: DateTime<Utc>) -> bool {
        self.change(id, now, |product| product.title = title.to_owned())
    }

    pub fn archive(&mut self, id: u64, now: DateTime<Utc>) -> bool {
        self.change(id, now, |product| {
            product.state = FakeProductState::Archived
        })
    }

    /// Deletes the product from the store.
    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.products.len();
        self.products.retain(|product| product.id != id);
        self.products.len() != before
    }

    /// Products changed after `since`, in id order.
    pub fn changed_since(&self, since: DateTime<Utc>) -> impl Iterator<Item = &FakeProduct> {
        self.products
            .iter()
            .filter(move |product| product.updated_at > since)
    }
}

/// `Hand-thrown Mug` → `hand-thrown-mug`.
pub fn slug(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for character in text.chars() {
        if character.is_ascii_alphanumeric() {
            slug.push(character.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// A 64×64 PNG in a colour of its own for each product and rank: the picture behind
/// [`FakeImage::path`].
pub fn image_png(product_id: u64, rank: u32) -> Vec<u8> {
    let seed = product_id
        .wrapping_mul(2_654_435_761)
        .wrapping_add(u64::from(rank) * 97);
    let colour = image::Rgb([
        (seed & 0xff) as u8,
        ((seed >> 8) & 0xff) as u8,
        ((seed >> 16) & 0xff) as u8,
    ]);
    let picture = image::RgbImage::from_pixel(64, 64, colour);
    let mut png = std::io::Cursor::new(Vec::new());
    picture
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("a PNG encodes into memory");
    png.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_arguments_make_the_same_catalogue() {
        let now = Utc::now();
        let one = Catalogue::generate(500, "USD", now);
        let two = Catalogue::generate(500, "USD", now);
        assert_eq!(one.products(), two.products());
        assert_eq!(one.len(), 500);
        assert!(
            one.products()
                .iter()
                .all(|product| product.updated_at < now)
        );
        assert!(one.products().iter().any(FakeProduct::sold_out));
        assert!(one.products().iter().any(|product| !product.sold_out()));
        let ids: Vec<u64> = one.products().iter().map(|product| product.id).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn owner_changes_move_the_change_time() {
        let now = Utc::now();
        let mut catalogue = Catalogue::generate(10, "EUR", now - Duration::days(1));
        let id = catalogue.id_at(3).unwrap();
        assert_eq!(catalogue.changed_since(now).count(), 0);
        catalogue.sell_out(id, now + Duration::seconds(1));
        assert!(catalogue.get(id).unwrap().sold_out());
        assert_eq!(
            catalogue
                .changed_since(now)
                .map(|p| p.id)
                .collect::<Vec<_>>(),
            [id]
        );
        catalogue.set_price(id, 999, now + Duration::seconds(2));
        assert_eq!(catalogue.get(id).unwrap().lowest_price(), 999);
        assert!(catalogue.remove(id));
        assert!(catalogue.get(id).is_none());
        assert_eq!(slug("Hand-thrown Mug No. 3"), "hand-thrown-mug-no-3");
        assert!(image_png(id, 0).starts_with(b"\x89PNG"));
    }
}
