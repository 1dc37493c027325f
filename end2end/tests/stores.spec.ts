import { expect, test } from "@playwright/test";
import { connectSandboxX, register, uniqueEmail, waitForHydration, watchForPageErrors } from "./helpers";

// The server runs with `--sandbox` (run.sh): Shopify is the fake under /sandbox/shopify, each
// `*.myshopify.com` shop a catalogue of made-up products, and the Studio writes with the
// Gemini fake.

test("connect a sandbox Shopify shop, sync it, find a product, write its caption in the Studio, publish it on X", async ({ page }) => {
  test.setTimeout(120_000);
  const problems = watchForPageErrors(page);
  await register(page, uniqueEmail("stores"));
  const username = `potter${Date.now() % 1_000_000}`;
  await connectSandboxX(page, username);

  // A shop address that is not Shopify's is refused beside the field.
  await page.goto("/connections");
  await waitForHydration(page);
  const shop = page.getByLabel("Shop address");
  await shop.fill("kiln.example.com");
  await page.getByRole("button", { name: "Connect Shopify" }).click();
  await expect(page.getByText(/myshopify\.com/).first()).toBeVisible();
  // The form comes back with the address as typed.
  await expect(shop).toHaveValue("kiln.example.com");

  await shop.fill(`kiln-${Date.now() % 1_000_000}`);
  await page.getByRole("button", { name: "Connect Shopify" }).click();
  await expect(page.getByRole("heading", { name: /Sandbox Shopify — install/ })).toBeVisible();
  await page.getByRole("button", { name: "Allow" }).click();
  await expect(page).toHaveURL(/\/connections\?store_connected=/);
  await expect(page.getByText(/Its products are syncing/)).toBeVisible();
  // Progress shows while the sync runs, then when it finished.
  await expect(page.getByText(/Last synced/)).toBeVisible({ timeout: 60_000 });
  await expect(page.getByRole("link", { name: /\d+ products/ })).toBeVisible();
  // Sync now queues another run and comes back to the section; it ends as the first did.
  await page.getByRole("button", { name: /^Sync now, / }).click();
  await expect(page).toHaveURL(/\/connections/);
  await expect(page.getByText(/Last synced/)).toBeVisible({ timeout: 60_000 });

  await page.goto("/products?q=mug&stock=in_stock");
  await expect(page.getByRole("heading", { name: "Products" })).toBeVisible();
  const create = page.getByRole("link", { name: /^Create post from / }).first();
  const label = (await create.getAttribute("aria-label"))!;
  const title = label.replace("Create post from ", "");
  expect(title.toLowerCase()).toContain("mug");
  await create.click();

  // The Studio opens with the product's photos and says what it writes about.
  await expect(page).toHaveURL(/\/studio\?product=/);
  await waitForHydration(page);
  await expect(page.getByText(new RegExp(`About ${title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`))).toBeVisible();
  await expect(page.getByRole("img", { name: "Image 1" })).toBeVisible();
  await page.getByLabel(`@${username} on X`).check();
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  const caption = page.getByRole("region", { name: `@${username} on X` }).getByRole("textbox", { name: `Caption for @${username}` });
  await expect(caption).not.toHaveValue("", { timeout: 20_000 });

  await page.getByRole("button", { name: "Publish now" }).click();
  await expect(page).toHaveURL(/\/posts\/[0-9a-f-]+/);
  await expect(page.getByText("Published", { exact: true }).first()).toBeVisible({ timeout: 20_000 });

  // Disconnecting asks first, then says which store went.
  await page.goto("/connections");
  const stores = page.getByRole("region", { name: "Stores" });
  // The question is a disclosure (`<details>`), which works before any script.
  await stores.getByText("Disconnect", { exact: true }).click();
  await stores.getByRole("button", { name: "Yes, disconnect" }).click();
  await expect(page.getByText(/^Disconnected .+\.$/)).toBeVisible();
  await expect(page.getByRole("link", { name: /\d+ products? from/ })).toHaveCount(0);
  expect(problems).toEqual([]);
});
