import { expect, test } from "@playwright/test";
import { PASSWORD, register, signIn, uniqueEmail, waitForHydration, watchForPageErrors } from "./helpers";

test("register, sign out, a wrong password is refused, sign in again", async ({ page }) => {
  const problems = watchForPageErrors(page);
  const email = uniqueEmail("journey");

  await register(page, email);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login$/);

  await signIn(page, email, "not the password");
  await expect(page.getByRole("alert")).toHaveText("The email or password is not correct.");
  await expect(page).toHaveURL(/\/login$/);
  // The email stays filled in: only the password needs typing again.
  await expect(page.getByLabel("Email")).toHaveValue(email);

  await signIn(page, email);
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByTestId("user-email")).toHaveText(email);

  expect(problems).toEqual([]);
});

test("the session survives a reload and a visitor is sent to sign in", async ({ page, context }) => {
  const email = uniqueEmail("reload");
  await register(page, email);
  await page.reload();
  await expect(page.getByTestId("user-email")).toHaveText(email);

  await context.clearCookies();
  await page.goto("/settings");
  await expect(page).toHaveURL(/\/login$/);
});

test("the theme toggle switches to dark and back, and the choice is remembered", async ({ page }) => {
  const problems = watchForPageErrors(page);
  await register(page, uniqueEmail("theme"));
  await waitForHydration(page);
  const toggle = page.getByRole("button", { name: "Dark theme" });
  await expect(toggle).toHaveAttribute("aria-pressed", "false");
  await page.screenshot({ path: "artifacts/shell-light.png", fullPage: true });

  await toggle.click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await expect(toggle).toHaveAttribute("aria-pressed", "true");
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  expect(background).not.toBe("rgb(255, 255, 255)");
  await page.screenshot({ path: "artifacts/shell-dark.png", fullPage: true });

  await page.reload();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");

  await waitForHydration(page);
  await toggle.click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  expect(problems).toEqual([]);
});

test("the time zone defaults from the browser and a new one is saved", async ({ page }) => {
  await register(page, uniqueEmail("zone"));
  const zone = page.getByLabel("Time zone");
  await expect(zone).toHaveValue("Europe/Berlin");

  await waitForHydration(page);
  await page.getByLabel("Display name").fill("Ana Maker");
  await zone.selectOption("Asia/Tokyo");
  await page.getByRole("button", { name: "Save profile" }).click();
  await expect(page.getByRole("status")).toHaveText("Profile saved.");

  await page.reload();
  await expect(page.getByLabel("Time zone")).toHaveValue("Asia/Tokyo");
  await expect(page.getByLabel("Display name")).toHaveValue("Ana Maker");
});

test("changing the password needs the current one", async ({ page }) => {
  const email = uniqueEmail("password");
  await register(page, email);
  await waitForHydration(page);

  await page.getByLabel("Current password").fill("not the password");
  await page.getByLabel("New password").fill("a brand new secret");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("The current password is not correct.")).toBeVisible();

  await page.getByLabel("Current password").fill(PASSWORD);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("status")).toContainText("Password changed");
});
