import { expect, test, type Page } from "@playwright/test";
import { connectSandbox, connectSandboxX, makeVideo, register, uniqueEmail, waitForHydration, watchForPageErrors } from "./helpers";

// The server runs with `--sandbox` (run.sh): X is the built-in fake under /sandbox/x.

/** `YYYY-MM-DDTHH:MM` of `at` in `zone`, as a datetime-local field takes it. */
function wallClock(at: Date, zone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(at)
      .map((part) => [part.type, part.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

async function compose(page: Page, text: string, username: string): Promise<void> {
  await page.goto("/compose");
  await waitForHydration(page);
  await page.getByLabel("Text", { exact: true }).fill(text);
  await page.getByLabel(`@${username} on X`).check();
}

test("connect a sandbox X account, publish a post with an image, open its link", async ({ page }) => {
  const problems = watchForPageErrors(page);
  await register(page, uniqueEmail("publish"));
  await expect(page.getByRole("note")).toContainText("Sandbox");
  const username = `shop${Date.now() % 1_000_000}`;
  await connectSandboxX(page, username);

  await compose(page, `Fresh mugs, just fired ${Date.now()}`, username);
  await page.getByLabel("Images").setInputFiles("fixtures/mug.png");
  await expect(page.getByRole("img", { name: "Image 1" })).toBeVisible();
  await expect(page.getByText(/\/280/)).toBeVisible();
  await page.getByRole("button", { name: "Publish now" }).click();

  await expect(page).toHaveURL(/\/posts\/[0-9a-f-]+/);
  await expect(page.getByText("Published", { exact: true }).first()).toBeVisible({ timeout: 20_000 });
  const link = page.getByRole("link", { name: "View on X" });
  const href = await link.getAttribute("href");
  expect(href).toContain(`/sandbox/x/${username}/status/`);
  await page.goto(href!);
  await expect(page.getByText("Fresh mugs, just fired")).toBeVisible();
  expect(problems).toEqual([]);
});

test("a post scheduled a few seconds ahead goes out while the page watches", async ({ page }) => {
  test.setTimeout(120_000);
  await register(page, uniqueEmail("schedule"));
  const username = `later${Date.now() % 1_000_000}`;
  await connectSandboxX(page, username);
  await compose(page, `Going out on time ${Date.now()}`, username);
  await page.getByLabel("Schedule", { exact: true }).check();
  // The field takes a wall-clock time in the user's zone (registration took the browser's).
  const hint = await page.getByText(/the time zone in your settings/).textContent();
  const zone = /In (\S+),/.exec(hint ?? "")?.[1] ?? "UTC";
  // The form takes whole minutes: the first minute at least 15 seconds from now.
  const due = new Date(Math.ceil((Date.now() + 15_000) / 60_000) * 60_000);
  const local = wallClock(due, zone);
  await page.getByLabel("Date and time (your time zone)").fill(local);
  await page.getByRole("button", { name: "Schedule post" }).click();
  await expect(page).toHaveURL(/\/posts\/[0-9a-f-]+/);
  const url = page.url();
  await expect(page.getByText(/^Scheduled for/).first()).toBeVisible();
  // No reload: the page polls and the status changes by itself.
  await expect(page.getByText("Published", { exact: true }).first()).toBeVisible({ timeout: 100_000 });
  expect(page.url()).toBe(url);
  expect(Date.now()).toBeGreaterThanOrEqual(due.getTime());
});

test("a failing post shows why, and Retry publishes it", async ({ page }) => {
  await register(page, uniqueEmail("retry"));
  const username = `fails${Date.now() % 1_000_000}`;
  await connectSandboxX(page, username);

  // Arm a failure on the sandbox's control page: X refuses the next post as invalid.
  await page.goto("/sandbox/x/_control");
  await page.getByLabel("Make the next post").selectOption("validation");
  await page.getByRole("button", { name: "Arm this failure" }).click();
  await expect(page.getByRole("status")).toContainText("1 failure(s) armed");

  await compose(page, `This one fails first ${Date.now()}`, username);
  await page.getByRole("button", { name: "Publish now" }).click();
  await expect(page.getByText("Failed", { exact: true }).first()).toBeVisible({ timeout: 20_000 });
  await expect(page.getByText("X refused the post: The Tweet contains an invalid URL.").first()).toBeVisible();
  await page.getByRole("button", { name: `Retry @${username}` }).click();
  await expect(page.getByText("Published", { exact: true }).first()).toBeVisible({ timeout: 20_000 });
});

test("the new pages label every control", async ({ page }) => {
  await register(page, uniqueEmail("labels"));
  const username = `named${Date.now() % 1_000_000}`;
  await connectSandboxX(page, username);
  for (const path of ["/connections", "/compose", "/posts"]) {
    await page.goto(path);
    await waitForHydration(page);
    const problems = await page.evaluate(() => {
      const found: string[] = [];
      for (const control of document.querySelectorAll<HTMLInputElement>("input, select, textarea")) {
        if (control.type === "hidden") continue;
        if (!control.labels || control.labels.length === 0) found.push(`unlabelled ${control.outerHTML}`);
      }
      for (const element of document.querySelectorAll<HTMLElement>("button, a")) {
        const name = (element.getAttribute("aria-label") ?? element.textContent ?? "").trim();
        if (!name) found.push(`nameless ${element.outerHTML}`);
      }
      return found;
    });
    expect(problems, path).toEqual([]);
  }
});

test("connect a sandbox Pinterest account, pin an image to a board, open the pin", async ({ page }) => {
  const problems = watchForPageErrors(page);
  await register(page, uniqueEmail("pin"));
  const username = `pins${Date.now() % 1_000_000}`;
  await connectSandbox(page, "Pinterest", username);

  await page.goto("/compose");
  await waitForHydration(page);
  await page.getByLabel("Text", { exact: true }).fill(`Blue mugs for the kitchen ${Date.now()}`);
  await page.getByLabel(`@${username} on Pinterest`).check();
  // The account's boards come from Pinterest when the account is chosen.
  const board = page.getByLabel(`Board for @${username} (required)`);
  await board.selectOption({ label: "Sandbox board" });
  await page.getByLabel(`Pin title for @${username}`).fill("Blue mug");
  await page.getByLabel("Images").setInputFiles("fixtures/mug.png");
  await expect(page.getByRole("img", { name: "Image 1" })).toBeVisible();
  await page.getByRole("button", { name: "Publish now" }).click();

  await expect(page).toHaveURL(/\/posts\/[0-9a-f-]+/);
  await expect(page.getByText("Published", { exact: true }).first()).toBeVisible({ timeout: 20_000 });
  const href = await page.getByRole("link", { name: "View on Pinterest" }).getAttribute("href");
  expect(href).toContain("/sandbox/pinterest/pin/");
  await page.goto(href!);
  await expect(page.getByRole("heading", { name: "Blue mug" })).toBeVisible();
  await expect(page.getByText("Sandbox board", { exact: true })).toBeVisible();
  await expect(page.getByText("Blue mugs for the kitchen")).toBeVisible();
  expect(problems).toEqual([]);
});

test("connect a sandbox LinkedIn member, post text with an image, open the post", async ({ page }) => {
  const problems = watchForPageErrors(page);
  await register(page, uniqueEmail("linkedin"));
  const username = `member${Date.now() % 1_000_000}`;
  await connectSandbox(page, "LinkedIn", username);

  await page.goto("/compose");
  await waitForHydration(page);
  // LinkedIn's markup characters are escaped, so nothing after the parenthesis is cut.
  const text = `New mugs (blue, #handmade) in the shop ${Date.now()}`;
  await page.getByLabel("Text", { exact: true }).fill(text);
  await page.getByLabel(`@${username} Sandbox on LinkedIn`).check();
  await page.getByLabel("Images").setInputFiles("fixtures/mug.png");
  await expect(page.getByRole("img", { name: "Image 1" })).toBeVisible();
  await page.getByRole("button", { name: "Publish now" }).click();

  await expect(page).toHaveURL(/\/posts\/[0-9a-f-]+/);
  await expect(page.getByText("Published", { exact: true }).first()).toBeVisible({ timeout: 20_000 });
  const href = await page.getByRole("link", { name: "View on LinkedIn" }).getAttribute("href");
  expect(href).toContain("/sandbox/linkedin/feed/update/urn:li:share:");
  await page.goto(href!);
  await expect(page.getByText(text)).toBeVisible();
  expect(problems).toEqual([]);
});

test("connect a sandbox TikTok account, post a photo with a privacy level, open the post", async ({ page }) => {
  const problems = watchForPageErrors(page);
  await register(page, uniqueEmail("tiktok"));
  const username = `clips${Date.now() % 1_000_000}`;
  await connectSandbox(page, "TikTok", username);

  await page.goto("/compose");
  await waitForHydration(page);
  const text = `Glaze test tiles, fresh from the kiln ${Date.now()}`;
  await page.getByLabel("Text", { exact: true }).fill(text);
  await page.getByLabel(`@${username} on TikTok`).check();
  // The privacy levels are this creator's, read from TikTok's creator_info.
  await page.getByLabel(`Who can see it for @${username} (required)`).selectOption({ label: "Followers" });
  await page.getByLabel(`Photo post title for @${username}`).fill("Test tiles");
  await page.getByLabel("Images").setInputFiles("fixtures/mug.jpg");
  await expect(page.getByRole("img", { name: "Image 1" })).toBeVisible();
  await page.getByRole("button", { name: "Publish now" }).click();

  await expect(page).toHaveURL(/\/posts\/[0-9a-f-]+/);
  await expect(page.getByText("Published", { exact: true }).first()).toBeVisible({ timeout: 30_000 });
  const href = await page.getByRole("link", { name: "View on TikTok" }).getAttribute("href");
  expect(href).toContain(`/sandbox/tiktok/@${username}/video/`);
  await page.goto(href!);
  await expect(page.getByRole("heading", { name: "Test tiles" })).toBeVisible();
  await expect(page.getByText(text)).toBeVisible();
  // TikTok downloaded the photo from the app's signed URL.
  await expect(page.getByText("1 photo(s) pulled")).toBeVisible();
  await expect(page.getByText(/\/media\/pull\//)).toBeVisible();
  expect(problems).toEqual([]);
});

test("a YouTube upload that breaks halfway resumes from the confirmed byte, and the video goes out", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const problems = watchForPageErrors(page);
  await register(page, uniqueEmail("youtube"));
  const username = `channel${Date.now() % 1_000_000}`;
  await connectSandbox(page, "YouTube", username);

  // The next upload's connection breaks when half its bytes have arrived.
  await page.goto("/sandbox/youtube/_control");
  await page.getByLabel("Make the next video").selectOption({ label: "The upload breaks halfway: resumed from the byte YouTube confirmed" });
  await page.getByRole("button", { name: "Arm this failure" }).click();
  await expect(page.getByRole("status")).toContainText("1 failure(s) armed");

  await page.goto("/compose");
  await waitForHydration(page);
  await page.getByLabel("Text", { exact: true }).fill(`How the blue glaze is mixed ${Date.now()}`);
  await page.getByLabel(/on YouTube$/).check();
  await page.getByLabel(/^Video title for @/).fill("Mixing the blue glaze");
  await page.getByLabel(/^Who can watch for @/).selectOption({ label: "Public" });
  await page.getByLabel(/^Made for kids for @/).selectOption({ label: "No" });
  // About 1.5 MB: the break leaves whole 256 KiB pieces behind, which are not sent again.
  const video = makeVideo(testInfo.outputPath("glaze.mp4"), 4, 3);
  await page.getByLabel("Images and videos").setInputFiles(video);
  await expect(page.getByRole("img", { name: "Video 1" })).toBeVisible({ timeout: 20_000 });
  // The preview is YouTube's, drawn from its rules: a 16:9 player and its description counter.
  const preview = page.getByRole("article", { name: /Preview for @.* on YouTube/ });
  await expect(preview).toContainText("bytes");
  await expect(preview.getByText("Video", { exact: true }).first()).toBeVisible();
  await page.getByRole("button", { name: "Publish now" }).click();

  await expect(page).toHaveURL(/\/posts\/[0-9a-f-]+/);
  await expect(page.getByText("Published", { exact: true }).first()).toBeVisible({ timeout: 60_000 });
  await expect(page.getByText(/the upload broke off .*: resuming/).first()).toBeVisible();
  await expect(page.getByText(/YouTube confirmed (0\.\d*[1-9]|[1-9][\d.]*) MB of [\d.]+ MB: sending the rest/).first()).toBeVisible();
  const href = await page.getByRole("link", { name: "View on YouTube" }).getAttribute("href");
  expect(href).toContain("/sandbox/youtube/");
  await page.goto(href!);
  await expect(page.getByText("Mixing the blue glaze").first()).toBeVisible();
  expect(problems).toEqual([]);
});

test("connect a sandbox Facebook Page, post a photo, open the post", async ({ page }) => {
  const problems = watchForPageErrors(page);
  await register(page, uniqueEmail("facebook"));
  const username = `bakery${Date.now() % 1_000_000}`;
  await connectSandbox(page, "Facebook", username);

  await page.goto("/compose");
  await waitForHydration(page);
  const text = `Fresh loaves at eight ${Date.now()}`;
  await page.getByLabel("Text", { exact: true }).fill(text);
  await page.getByLabel(/on Facebook$/).check();
  await page.getByLabel("Images and videos").setInputFiles("fixtures/mug.jpg");
  await expect(page.getByRole("img", { name: "Image 1" })).toBeVisible();
  await expect(page.getByRole("article", { name: /on Facebook/ })).toContainText("/63,206 characters");
  await page.getByRole("button", { name: "Publish now" }).click();

  await expect(page).toHaveURL(/\/posts\/[0-9a-f-]+/);
  await expect(page.getByText("Published", { exact: true }).first()).toBeVisible({ timeout: 30_000 });
  const href = await page.getByRole("link", { name: "View on Facebook" }).getAttribute("href");
  expect(href).toMatch(/\/sandbox\/(facebook|instagram)\//);
  await page.goto(href!);
  await expect(page.getByText(text)).toBeVisible();
  expect(problems).toEqual([]);
});

test("connect a sandbox Instagram account, see its quota and the feed's fold, post a reel", async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const problems = watchForPageErrors(page);
  await register(page, uniqueEmail("instagram"));
  const username = `studio${Date.now() % 1_000_000}`;
  await connectSandbox(page, "Instagram", username, "Facebook");

  await page.goto("/compose");
  await waitForHydration(page);
  const opening = "Blue mugs, glazed by hand in small batches, each one a little different from the next.";
  const text = `${opening} Find them in the shop from Friday morning, while they last. ${Date.now()}`;
  await page.getByLabel("Text", { exact: true }).fill(text);
  await page.getByLabel(/on Instagram$/).check();
  // The 24-hour publishing limit, read from Instagram before anything is scheduled.
  await expect(page.getByText(/Instagram allows \d+ posts in 24 hours; this account has used 0/)).toBeVisible();
  const video = makeVideo(testInfo.outputPath("reel.mp4"), 4, 1);
  await page.getByLabel("Images and videos").setInputFiles(video);
  await expect(page.getByRole("img", { name: "Video 1" })).toBeVisible({ timeout: 20_000 });
  // The feed shows about 125 characters, then "... more".
  const preview = page.getByRole("article", { name: /on Instagram/ });
  await expect(preview).toContainText("... more");
  await expect(preview).not.toContainText("Friday morning");
  await page.getByRole("button", { name: "Publish now" }).click();

  await expect(page).toHaveURL(/\/posts\/[0-9a-f-]+/);
  await expect(page.getByText("Published", { exact: true }).first()).toBeVisible({ timeout: 60_000 });
  const href = await page.getByRole("link", { name: "View on Instagram" }).getAttribute("href");
  expect(href).toMatch(/\/sandbox\/(facebook|instagram)\//);
  await page.goto(href!);
  await expect(page.getByText(opening)).toBeVisible();
  expect(problems).toEqual([]);
});
