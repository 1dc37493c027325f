//! Post templates: a person's saved texts and post options, and starting a post or an AI
//! Studio session from one. Saving checks a template like a post (the same text rules, the
//! accounts the person's own); starting fills `{date}` with the day in the person's time zone
//! and, given one of their products, `{title}`, `{price}`, `{url}` and `{store}`, and leaves
//! out accounts that are gone or must be connected again, saying so.
//!
//! A start stores nothing: the post or the captions made from it go through their own checks.
//! Every query is the owner's, so another person's template or product is not found.

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use app::services::{ProductEventLog, Templates};
use app::types::{
    ApiError, AppEvent, Connection, ConnectionStatus, NewTemplate, PRODUCT_VARIABLES, Product,
    ProductId, Template, TemplateId, TemplateName, TemplateOptions, TemplateStart, TimeZoneName,
    User, UserId, fill_date_variable, fill_product_variables,
};

use crate::analytics::events::ProductEvents;
use crate::clock::SharedClock;
use crate::db::templates::{self as rows, TemplateFields};
use crate::db::{DbError, connections as connection_rows, products as product_rows};
use crate::error::Error;
// A post's rules, so that a template saved makes a post that can be stored. Filled variables
// may still lengthen it; the post's own check says so then.
use crate::publishing::posts::check_text;

pub struct TemplateService {
    db: DatabaseConnection,
    clock: SharedClock,
    events: Arc<ProductEvents>,
}

/// A template after its checks: what will be written.
struct Checked {
    name: TemplateName,
    text: String,
    options: TemplateOptions,
}

impl Checked {
    fn fields(&self) -> TemplateFields<'_> {
        TemplateFields {
            name: &self.name,
            text: &self.text,
            options: &self.options,
        }
    }
}

impl TemplateService {
    pub fn new(db: DatabaseConnection, clock: SharedClock, events: Arc<ProductEvents>) -> Self {
        Self { db, clock, events }
    }

    /// The owner's templates by name.
    pub async fn list(&self, owner: UserId) -> Result<Vec<Template>, Error> {
        Ok(rows::list(&self.db, owner).await?)
    }

    pub async fn get(&self, owner: UserId, id: TemplateId) -> Result<Template, Error> {
        rows::get(&self.db, owner, id)
            .await?
            .ok_or(Error::Refused(ApiError::NotFound))
    }

    /// Saves a new template; a name the owner already uses, whatever its case, is a conflict.
    pub async fn create(&self, owner: UserId, new: NewTemplate) -> Result<Template, Error> {
        let checked = self.check(owner, new).await?;
        let id = TemplateId(Uuid::new_v4());
        rows::insert(&self.db, owner, id, checked.fields(), self.clock.now())
            .await
            .map_err(|error| name_taken(error, &checked.name))
    }

    /// Replaces the template's name, text and options.
    pub async fn update(
        &self,
        owner: UserId,
        id: TemplateId,
        new: NewTemplate,
    ) -> Result<Template, Error> {
        let checked = self.check(owner, new).await?;
        rows::update(&self.db, owner, id, checked.fields(), self.clock.now())
            .await
            .map_err(|error| name_taken(error, &checked.name))?
            .ok_or(Error::Refused(ApiError::NotFound))
    }

    pub async fn delete(&self, owner: UserId, id: TemplateId) -> Result<(), Error> {
        if rows::delete(&self.db, owner, id).await? {
            Ok(())
        } else {
            Err(Error::Refused(ApiError::NotFound))
        }
    }

    /// The template made ready for a new post or an AI Studio session, filled from `product`
    /// when one is given (it must be the owner's).
    pub async fn start(
        &self,
        owner: &User,
        id: TemplateId,
        product: Option<ProductId>,
    ) -> Result<TemplateStart, Error> {
        let template = self.get(owner.id, id).await?;
        let product = match product {
            Some(product) => Some(
                product_rows::get(&self.db, owner.id, product)
                    .await?
                    .ok_or(Error::Refused(ApiError::NotFound))?,
            ),
            None => None,
        };
        let connections = connection_rows::list(&self.db, owner.id).await?;
        let today = day_in(&owner.time_zone, self.clock.now());
        self.events
            .record(
                owner,
                AppEvent::TemplateUsed {
                    with_product: product.is_some(),
                },
            )
            .await;
        Ok(fill(template, product.as_ref(), &connections, today))
    }

    async fn check(&self, owner: UserId, new: NewTemplate) -> Result<Checked, Error> {
        let name = TemplateName::parse(&new.name)?;
        check_text("text", &new.text)?;
        let targets = &new.options.targets;
        for target in targets {
            if let Some(text) = &target.text {
                check_text("targets", text)?;
            }
        }
        let mut seen = HashSet::new();
        if !targets
            .iter()
            .all(|target| seen.insert(target.connection_id))
        {
            return Err(refuse("targets", "An account is chosen twice."));
        }
        if !targets.is_empty() {
            let connections = connection_rows::list(&self.db, owner).await?;
            let unknown = targets.iter().any(|target| {
                !connections
                    .iter()
                    .any(|connection| connection.id == target.connection_id)
            });
            if unknown {
                return Err(refuse(
                    "targets",
                    "One of the chosen accounts is not among your connected accounts.",
                ));
            }
        }
        Ok(Checked {
            name,
            text: new.text,
            options: new.options,
        })
    }
}

fn refuse(field: &str, message: impl Into<String>) -> Error {
    Error::Refused(ApiError::validation(field, message))
}

/// A unique violation on a template write can only be the owner's name index.
fn name_taken(error: DbError, name: &TemplateName) -> Error {
    match error {
        DbError::Conflict => Error::conflict(format!(
            "You already have a template called \u{201c}{name}\u{201d}; choose another name."
        )),
        other => Error::Database(other),
    }
}

/// The day it is at `now` where the person lives. A stored zone was checked when it was
/// saved; UTC stands in should a tz database update ever drop its name.
fn day_in(zone: &TimeZoneName, now: DateTime<Utc>) -> NaiveDate {
    let zone: chrono_tz::Tz = zone.as_str().parse().unwrap_or(chrono_tz::Tz::UTC);
    now.with_timezone(&zone).date_naive()
}

/// `template` with its variables filled and its accounts checked against the person's
/// `connections`.
fn fill(
    template: Template,
    product: Option<&Product>,
    connections: &[Connection],
    today: NaiveDate,
) -> TemplateStart {
    let mut notes = Vec::new();
    let mut options = template.options;
    let mut gone = 0_usize;
    options.targets.retain(|target| {
        match connections
            .iter()
            .find(|connection| connection.id == target.connection_id)
        {
            Some(connection) if connection.status == ConnectionStatus::Active => true,
            Some(connection) => {
                notes.push(format!(
                    "@{} on {} must be connected again, so it was left out.",
                    connection.handle,
                    connection.platform.display_name()
                ));
                false
            }
            None => {
                gone += 1;
                false
            }
        }
    });
    match gone {
        0 => {}
        1 => notes.push(
            "An account this template posts to is no longer connected, so it was left out."
                .to_owned(),
        ),
        _ => notes.push(format!(
            "{gone} accounts this template posts to are no longer connected, so they were left out."
        )),
    }
    let filled = |text: &str| {
        // The date first: a product title that happens to contain `{date}` stays as written.
        let dated = fill_date_variable(text, today);
        match product {
            Some(product) => fill_product_variables(&dated, product),
            None => dated,
        }
    };
    let text = filled(&template.text);
    for target in &mut options.targets {
        if let Some(own) = &target.text {
            target.text = Some(filled(own));
        }
    }
    if product.is_none() {
        let texts: Vec<&str> = std::iter::once(text.as_str())
            .chain(
                options
                    .targets
                    .iter()
                    .filter_map(|target| target.text.as_deref()),
            )
            .collect();
        let left: Vec<&str> = PRODUCT_VARIABLES
            .into_iter()
            .filter(|variable| texts.iter().any(|text| text.contains(*variable)))
            .collect();
        if !left.is_empty() {
            notes.push(format!(
                "Left as written until a product is chosen: {}.",
                in_words(&left)
            ));
        }
    }
    TemplateStart {
        template_id: template.id,
        text,
        options,
        product_id: product.map(|product| product.id),
        notes,
    }
}

/// `a`, `a and b`, `a, b and c`.
fn in_words(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[async_trait]
impl Templates for TemplateService {
    async fn list(&self, owner: UserId) -> Result<Vec<Template>, ApiError> {
        Ok(TemplateService::list(self, owner).await?)
    }

    async fn get(&self, owner: UserId, id: TemplateId) -> Result<Template, ApiError> {
        Ok(TemplateService::get(self, owner, id).await?)
    }

    async fn create(&self, owner: UserId, template: NewTemplate) -> Result<Template, ApiError> {
        Ok(TemplateService::create(self, owner, template).await?)
    }

    async fn update(
        &self,
        owner: UserId,
        id: TemplateId,
        template: NewTemplate,
    ) -> Result<Template, ApiError> {
        Ok(TemplateService::update(self, owner, id, template).await?)
    }

    async fn delete(&self, owner: UserId, id: TemplateId) -> Result<(), ApiError> {
        Ok(TemplateService::delete(self, owner, id).await?)
    }

    async fn start(
        &self,
        owner: &User,
        id: TemplateId,
        product: Option<ProductId>,
    ) -> Result<TemplateStart, ApiError> {
        Ok(TemplateService::start(self, owner, id, product).await?)
    }
}

#[cfg(test)]
mod tests {
    use app::types::{
        ConnectionId, NewTarget, Platform, ProductState, Store, StoreId, TargetOptions,
        format_price,
    };

    use super::*;

    fn mug() -> Product {
        Product {
            id: ProductId(Uuid::from_u128(5)),
            store_id: StoreId(Uuid::from_u128(6)),
            store: Store::Etsy,
            store_name: "Kiln & Co".into(),
            external_id: "77".into(),
            title: "Speckled Mug".into(),
            description: String::new(),
            url: Some("https://kiln.example/mug".into()),
            state: ProductState::Active,
            currency: "EUR".into(),
            price_minor: 2400,
            price: format_price(2400, "EUR"),
            stock: Some(3),
            in_stock: true,
            images: Vec::new(),
            tags: Vec::new(),
            variants: Vec::new(),
            updated_at: None,
        }
    }

    fn account(n: u128, handle: &str, status: ConnectionStatus) -> Connection {
        Connection {
            id: ConnectionId(Uuid::from_u128(n)),
            platform: Platform::X,
            account_id: n.to_string(),
            handle: handle.into(),
            display_name: None,
            avatar_url: None,
            status,
            connected_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    fn target(n: u128, text: Option<&str>) -> NewTarget {
        NewTarget {
            connection_id: ConnectionId(Uuid::from_u128(n)),
            text: text.map(str::to_owned),
            options: TargetOptions::new(),
        }
    }

    fn template(text: &str, targets: Vec<NewTarget>) -> Template {
        Template {
            id: TemplateId(Uuid::from_u128(1)),
            name: TemplateName::parse("Weekly").unwrap(),
            text: text.into(),
            options: TemplateOptions {
                targets,
                check_product: false,
            },
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_product_and_the_day_fill_every_text_and_unknown_words_stay() {
        let saved = template(
            "{title} for {price} at {store}: {url} ({date}) {mood}",
            vec![
                target(10, Some("Only {price} until {date}")),
                target(11, None),
            ],
        );
        let accounts = [
            account(10, "kiln", ConnectionStatus::Active),
            account(11, "kiln_two", ConnectionStatus::Active),
        ];
        let start = fill(saved, Some(&mug()), &accounts, day(2026, 11, 27));
        assert_eq!(
            start.text,
            "Speckled Mug for €24.00 at Kiln & Co: https://kiln.example/mug (27 November 2026) {mood}"
        );
        assert_eq!(
            start.options.targets[0].text.as_deref(),
            Some("Only €24.00 until 27 November 2026")
        );
        assert_eq!(start.options.targets[1].text, None);
        assert_eq!(start.product_id, Some(mug().id));
        assert!(!start.options.check_product);
        assert!(start.notes.is_empty(), "{:?}", start.notes);
    }

    #[test]
    fn without_a_product_its_variables_stay_and_a_note_names_them() {
        let saved = template("{title} on {date}", vec![target(10, Some("See {url}"))]);
        let accounts = [account(10, "kiln", ConnectionStatus::Active)];
        let start = fill(saved, None, &accounts, day(2026, 3, 2));
        assert_eq!(start.text, "{title} on 2 March 2026");
        assert_eq!(start.options.targets[0].text.as_deref(), Some("See {url}"));
        assert_eq!(start.product_id, None);
        assert_eq!(
            start.notes,
            ["Left as written until a product is chosen: {title} and {url}."]
        );

        let plain = fill(template("Hello", Vec::new()), None, &[], day(2026, 3, 2));
        assert!(plain.notes.is_empty(), "{:?}", plain.notes);
    }

    #[test]
    fn accounts_gone_or_to_be_reconnected_are_left_out_and_said_so() {
        let saved = template(
            "Hi",
            vec![
                target(10, None),
                target(11, None),
                target(12, None),
                target(13, None),
            ],
        );
        let accounts = [
            account(10, "kiln", ConnectionStatus::Active),
            account(11, "kiln_old", ConnectionStatus::NeedsReconnect),
        ];
        let start = fill(saved, None, &accounts, day(2026, 3, 2));
        let kept: Vec<ConnectionId> = start
            .options
            .targets
            .iter()
            .map(|target| target.connection_id)
            .collect();
        assert_eq!(kept, [ConnectionId(Uuid::from_u128(10))]);
        assert_eq!(
            start.notes,
            [
                "@kiln_old on X must be connected again, so it was left out.",
                "2 accounts this template posts to are no longer connected, so they were left out.",
            ]
        );
    }

    #[test]
    fn the_day_is_the_persons_own() {
        let late_in_london = "2026-11-27T23:30:00Z".parse::<DateTime<Utc>>().unwrap();
        let zone = |name: &str| TimeZoneName::parse(name).unwrap();
        assert_eq!(
            day_in(&zone("Europe/Berlin"), late_in_london),
            day(2026, 11, 28)
        );
        assert_eq!(day_in(&zone("UTC"), late_in_london), day(2026, 11, 27));
        assert_eq!(
            day_in(&zone("America/Los_Angeles"), late_in_london),
            day(2026, 11, 27)
        );
        let early = "2026-11-27T05:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            day_in(&zone("America/Los_Angeles"), early),
            day(2026, 11, 26)
        );
    }

    #[test]
    fn lists_read_as_words() {
        assert_eq!(in_words(&[]), "");
        assert_eq!(in_words(&["{url}"]), "{url}");
        assert_eq!(in_words(&["{title}", "{url}"]), "{title} and {url}");
        assert_eq!(
            in_words(&["{title}", "{price}", "{store}"]),
            "{title}, {price} and {store}"
        );
    }

    #[test]
    fn only_a_name_clash_is_a_conflict_with_the_name_in_it() {
        let name = TemplateName::parse("Weekly sale").unwrap();
        match ApiError::from(name_taken(DbError::Conflict, &name)) {
            ApiError::Conflict { message } => assert!(message.contains("Weekly sale"), "{message}"),
            other => panic!("{other:?}"),
        }
        let failure = name_taken(DbError::Db(sea_orm::DbErr::Custom("x".into())), &name);
        assert!(matches!(ApiError::from(failure), ApiError::Internal { .. }));
    }
}
