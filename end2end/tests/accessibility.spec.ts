import { expect, test, type Page } from "@playwright/test";
import { PASSWORD, register, uniqueEmail, waitForHydration } from "./helpers";

/** Visible form controls without a label, and buttons or links without an accessible name. */
async function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    for (const control of document.querySelectorAll<HTMLInputElement | HTMLSelectElement>("input, select, textarea")) {
      if (control.type === "hidden") continue;
      if (!control.labels || control.labels.length === 0) problems.push(`unlabelled ${control.outerHTML}`);
    }
    for (const element of document.querySelectorAll<HTMLElement>("button, a")) {
      const name = (element.getAttribute("aria-label") ?? element.textContent ?? "").trim();
      if (!name) problems.push(`nameless ${element.outerHTML}`);
    }
    return problems;
  });
}

test("every field is labelled and every button and link is named", async ({ page }) => {
  for (const path of ["/login", "/register"]) {
    await page.goto(path);
    expect(await unnamedControls(page), path).toEqual([]);
  }
  await register(page, uniqueEmail("a11y"));
  expect(await unnamedControls(page)).toEqual([]);
  for (const path of ["/calendar", "/calendar?view=week", "/templates", "/media", "/analytics"]) {
    await page.goto(path);
    await waitForHydration(page);
    expect(await unnamedControls(page), path).toEqual([]);
  }
});

test("signing up and in works from the keyboard alone", async ({ page }) => {
  const email = uniqueEmail("keyboard");
  await page.goto("/register");
  await waitForHydration(page);
  await page.getByLabel("Email").focus();
  await page.keyboard.type(email);
  await page.keyboard.press("Tab");
  await expect(page.getByLabel("Password")).toBeFocused();
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/settings$/);

  // Tab through the sandbox banner's links and the sidebar to "Sign out" and press it.
  const signOut = page.getByRole("button", { name: "Sign out" });
  for (let i = 0; i < 25 && !(await signOut.evaluate((el) => el === document.activeElement)); i++) {
    await page.keyboard.press("Tab");
  }
  await expect(signOut).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/login$/);
});
