import { expect, test } from "@playwright/test";
import { connectSandbox, connectSandboxX, register, uniqueEmail, waitForHydration, watchForPageErrors } from "./helpers";

// The server runs with `--sandbox` (run.sh): the Studio writes with the Gemini fake under
// /sandbox/gemini, whose control page sets what the model answers.

/** Makes every later answer of the sandbox model `reply` (empty: its built-in answer). */
async function setModelReply(page: import("@playwright/test").Page, reply: string): Promise<void> {
  await page.goto("/sandbox/gemini/_control");
  await page.getByLabel("Every answer says").fill(reply);
  await page.getByRole("button", { name: "Use this answer" }).click();
  await expect(page.getByLabel("Every answer says")).toHaveValue(reply);
}

test("write captions from three photos for X and LinkedIn, keep one change, undo another, fix a spelling, schedule", async ({ page }) => {
  test.setTimeout(90_000);
  const problems = watchForPageErrors(page);
  await register(page, uniqueEmail("studio"));
  const username = `studio${Date.now() % 1_000_000}`;
  await connectSandboxX(page, username);
  await connectSandbox(page, "LinkedIn", username);
  // A model's caption with what the Studio is there to catch: a buzzword, two exclamation
  // marks in a row, a misspelling.
  await setModelReply(page, "We elevate mornings with our realy lovely mugs!! Thrown by hand in small batches.");

  try {
    await page.goto("/studio");
    await waitForHydration(page);
    await page.getByLabel("Images and videos").setInputFiles(["fixtures/mug.png", "fixtures/mug.jpg", "fixtures/mug.png"]);
    await expect(page.getByRole("img", { name: "Image 3" })).toBeVisible();
    await page.getByLabel(`@${username} on X`).check();
    // A LinkedIn member's handle is their name.
    await page.getByLabel(new RegExp(`@${username}.* on LinkedIn`)).check();
    await page.getByLabel("Tone").selectOption({ label: "Plain" });
    await page.getByRole("button", { name: "Generate", exact: true }).click();
    await expect(page.getByText(/Written by Gemini/)).toBeVisible();

    const card = page.getByRole("region", { name: `@${username} on X` });
    const caption = card.getByRole("textbox", { name: `Caption for @${username}` });
    const changes = card.getByRole("group", { name: "Authenticity changes" });
    await expect(changes).toBeVisible({ timeout: 20_000 });
    // Every change is made at first: the buzzword is gone and one exclamation mark is left.
    await expect(caption).not.toHaveValue(/elevate/);
    await expect(caption).toHaveValue(/mugs! /);
    // Undo the buzzword's change, keep the exclamation marks' one.
    await changes.getByRole("listitem").filter({ hasText: "elevate" }).getByRole("button", { name: "Revert" }).click();
    await expect(caption).toHaveValue(/^We elevate mornings/);
    await expect(caption).toHaveValue(/mugs! /);
    await changes.getByRole("button", { name: "Revert all" }).click();
    await expect(caption).toHaveValue(/mugs!! /);
    await changes.getByRole("listitem").filter({ hasText: "!!" }).getByRole("button", { name: "Accept" }).click();
    await expect(caption).toHaveValue(/^We elevate mornings.*mugs! /);

    // The proofreader underlines the misspelling; one click fixes it, and the fix taken is
    // counted for product analytics.
    const proofreading = card.getByRole("group", { name: "Proofreading" });
    const counted = page.waitForResponse(
      (response) =>
        response.url().endsWith("/api/analytics/track") &&
        response.request().postDataJSON()?.events?.[0]?.properties?.pass === "proofread",
    );
    await proofreading.getByRole("button", { name: "Replace “realy” with “really”" }).click();
    await expect(caption).toHaveValue(/our really lovely mugs/);
    expect((await counted).status()).toBe(202);
    // So is an emoji put in from the picker.
    const emojiCounted = page.waitForResponse(
      (response) =>
        response.url().endsWith("/api/analytics/track") &&
        response.request().postDataJSON()?.events?.[0]?.properties?.pass === "emoji",
    );
    await card.getByRole("button", { name: "More emoji" }).click();
    await card.getByLabel("Search emoji").fill("coffee");
    await card.getByRole("list", { name: "Emoji" }).getByRole("button", { name: /beverage/ }).click();
    await expect(caption).toHaveValue(/☕/);
    expect((await emojiCounted).status()).toBe(202);
    await expect(card.getByText(/Sounds human: \d+\/100/)).toBeVisible();

    // The other account got its own caption in the same run.
    const linkedIn = page.getByRole("region", { name: new RegExp(`@${username}.* on LinkedIn`) });
    await expect(linkedIn.getByRole("textbox", { name: /Caption for/ })).toHaveValue(/Thrown by hand/);

    await page.getByLabel("Schedule", { exact: true }).check();
    await page.getByLabel("Date and time (your time zone)").fill("2031-05-04T09:30");
    await page.getByRole("button", { name: "Schedule post" }).click();
    await expect(page).toHaveURL(/\/posts\/[0-9a-f-]+/);
    await expect(page.getByText(/^Scheduled for/).first()).toBeVisible();

    await page.goto("/posts");
    await expect(page.getByRole("link", { name: /We elevate mornings with our really lovely mugs/ })).toBeVisible();
  } finally {
    await setModelReply(page, "");
  }
  expect(problems).toEqual([]);
});

test("a model that refuses says why in the account's card, and the caption typed before stays", async ({ page }) => {
  const problems = watchForPageErrors(page);
  await register(page, uniqueEmail("studio-block"));
  const username = `blocked${Date.now() % 1_000_000}`;
  await connectSandboxX(page, username);
  await page.goto("/sandbox/gemini/_control");
  await page.getByLabel("Make the next caption fail").selectOption("prompt_blocked");
  await page.getByRole("button", { name: "Arm this failure" }).click();
  await expect(page.getByText("1 failure(s) armed.")).toBeVisible();

  await page.goto("/studio");
  await waitForHydration(page);
  await page.getByLabel(`@${username} on X`).check();
  const card = page.getByRole("region", { name: `@${username} on X` });
  const caption = card.getByRole("textbox", { name: `Caption for @${username}` });
  await caption.fill("My own words first");
  await page.getByRole("button", { name: "Generate", exact: true }).click();
  await expect(card.getByRole("alert")).toContainText(/safety/i);
  await expect(caption).toHaveValue("My own words first");
  expect(problems).toEqual([]);
});

test("the brand voice and the caption writer are set in Settings, and the Studio keeps to them", async ({ page }) => {
  test.setTimeout(60_000);
  const problems = watchForPageErrors(page);
  await register(page, uniqueEmail("studio-voice"));
  const username = `voice${Date.now() % 1_000_000}`;
  await connectSandboxX(page, username);

  // The sections are plain forms: each post comes back to the page, drawn from what was saved.
  await page.goto("/settings");
  await page.getByLabel("Words to avoid").fill("lovely");
  await page.getByLabel("Emoji").selectOption({ label: "None" });
  await page.getByRole("button", { name: "Save brand voice" }).click();
  await expect(page.getByLabel("Words to avoid")).toHaveValue("lovely");
  await expect(page.getByLabel("Emoji")).toHaveValue("none");

  await page.getByRole("button", { name: "Test connection" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Connected. Models:" })).toContainText("gemini-2.5-flash");

  await page.getByLabel("An OpenAI-compatible server").check();
  await page.getByLabel("Server base URL").fill("ftp://models.example");
  await page.getByRole("button", { name: "Save writer" }).click();
  await expect(page.getByText(/starting with http:\/\/ or https:\/\//)).toBeVisible();
  await expect(page.getByLabel("This server's writer")).toBeChecked();

  await setModelReply(page, "Our lovely mugs are back in the shop.");
  try {
    await page.goto("/studio");
    await waitForHydration(page);
    await page.getByLabel(`@${username} on X`).check();
    await page.getByRole("button", { name: "Generate", exact: true }).click();
    const card = page.getByRole("region", { name: `@${username} on X` });
    const changes = card.getByRole("group", { name: "Authenticity changes" });
    await expect(changes.getByRole("listitem").filter({ hasText: "A phrase you avoid" })).toBeVisible({ timeout: 20_000 });
    await expect(card.getByRole("textbox", { name: `Caption for @${username}` })).not.toHaveValue(/lovely/);
  } finally {
    await setModelReply(page, "");
  }
  expect(problems).toEqual([]);
});
