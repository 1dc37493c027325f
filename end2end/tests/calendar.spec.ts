import { expect, test, type Locator, type Page } from "@playwright/test";
import { connectSandboxX, register, uniqueEmail, waitForHydration, watchForPageErrors } from "./helpers";

// The calendar moves a scheduled post from tomorrow to today, same time of day, and the
// sandbox publishes it at the new time: once by dragging, once with the keyboard alone.

/** `YYYY-MM-DDTHH:MM` of `at` on the clock of `zone`. */
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

/** The day after `day` (`YYYY-MM-DD`). */
function nextDay(day: string): string {
  const date = new Date(`${day}T12:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

type Planned = { postId: string; due: Date; dropDay: string; time: string };

/**
 * Schedules a post for tomorrow at the first whole minute at least `lead` ms from now (on the
 * user's clock: registration took the browser's zone), through the composer's `?at=` link as
 * an empty calendar slot makes it. Returns the post and the day to move it to: today.
 */
async function planTomorrow(page: Page, text: string, username: string, lead: number): Promise<Planned> {
  await page.goto("/calendar");
  await waitForHydration(page);
  const lead_text = await page.locator(".page-lead").first().textContent();
  const zone = /\u00b7 (\S+)$/.exec(lead_text?.trim() ?? "")?.[1] ?? "UTC";
  const due = new Date(Math.ceil((Date.now() + lead) / 60_000) * 60_000);
  const local = wallClock(due, zone);
  const [dropDay, time] = local.split("T");
  await page.goto(`/compose?at=${nextDay(dropDay)}T${time}`);
  await waitForHydration(page);
  await page.getByLabel("Text", { exact: true }).fill(text);
  await page.getByLabel(`@${username} on X`).check();
  await expect(page.getByLabel("Date and time (your time zone)")).toHaveValue(`${nextDay(dropDay)}T${time}`);
  await page.getByRole("button", { name: "Schedule post" }).click();
  await expect(page).toHaveURL(/\/posts\/[0-9a-f-]+/);
  const postId = /\/posts\/([0-9a-f-]+)/.exec(page.url())![1];
  return { postId, due, dropDay, time };
}

/**
 * Opens a view holding both tomorrow's post and today's slot (the month, or the week when the
 * month ends between them) and returns the post and the slot to move it to.
 */
async function openWithBoth(page: Page, plan: Planned): Promise<{ chip: Locator; slot: Locator }> {
  await page.goto(`/calendar?view=month&date=${plan.dropDay}`);
  await waitForHydration(page);
  let chip = page.locator(`[data-post="${plan.postId}"]`);
  let slot = page.locator(`[data-slot="${plan.dropDay}"]`);
  if ((await chip.count()) === 0) {
    await page.goto(`/calendar?view=week&date=${plan.dropDay}`);
    await waitForHydration(page);
    chip = page.locator(`[data-post="${plan.postId}"]`);
    slot = page.locator(`[data-slot="${plan.dropDay}T${plan.time.slice(0, 2)}"]`);
  }
  await expect(chip).toBeVisible();
  await expect(chip).toHaveAttribute("data-movable", "true");
  return { chip, slot };
}

async function seeItGoOut(page: Page, plan: Planned): Promise<void> {
  await page.goto(`/posts/${plan.postId}`);
  await expect(page.getByText("Published", { exact: true }).first()).toBeVisible({ timeout: 100_000 });
  expect(Date.now()).toBeGreaterThanOrEqual(plan.due.getTime());
}

test("drag a scheduled post to another day and it goes out at the new time", async ({ page }) => {
  test.setTimeout(180_000);
  const problems = watchForPageErrors(page);
  await register(page, uniqueEmail("drag"));
  const username = `drag${Date.now() % 1_000_000}`;
  await connectSandboxX(page, username);
  const plan = await planTomorrow(page, `Moved by dragging ${Date.now()}`, username, 40_000);

  const { chip, slot } = await openWithBoth(page, plan);
  const move = page.waitForRequest((request) => request.url().endsWith("/rpc/posts/move"));
  await chip.dragTo(slot);
  await expect(page.getByRole("status").filter({ hasText: "Moved" })).toContainText(`at ${plan.time}`);
  // The move says how it was made, for product analytics.
  const view = new URL(page.url()).searchParams.get("view");
  expect((await move).postDataJSON()).toMatchObject({ view, keyboard: false });
  await expect(slot.locator(`[data-post="${plan.postId}"]`)).toBeVisible();
  await expect(slot.locator(`[data-post="${plan.postId}"]`)).toHaveAttribute("data-local", `${plan.dropDay}T${plan.time}`);

  // The page drawn again from the server agrees.
  await page.reload();
  await waitForHydration(page);
  await expect(page.locator(`[data-slot^="${plan.dropDay}"] [data-post="${plan.postId}"]`)).toBeVisible();
  await seeItGoOut(page, plan);
  expect(problems).toEqual([]);
});

test("move a post with the keyboard alone, and a refused move stays put with the reason", async ({ page }) => {
  test.setTimeout(180_000);
  const problems = watchForPageErrors(page);
  await register(page, uniqueEmail("keys"));
  const username = `keys${Date.now() % 1_000_000}`;
  await connectSandboxX(page, username);
  const plan = await planTomorrow(page, `Moved by keyboard ${Date.now()}`, username, 40_000);

  const { chip, slot } = await openWithBoth(page, plan);
  await chip.focus();
  await page.keyboard.press("Space");
  await expect(page.getByRole("status")).toContainText("Moving");
  // Back one slot: today (the day before in the month, the same hour the day before in the week).
  await page.keyboard.press("ArrowLeft");
  await expect(slot).toHaveClass(/cal-drop-target/);
  const move = page.waitForRequest((request) => request.url().endsWith("/rpc/posts/move"));
  await page.keyboard.press("Enter");
  await expect(page.getByRole("status")).toContainText(`Moved`);
  expect((await move).postDataJSON()).toMatchObject({ keyboard: true });
  await expect(slot.locator(`[data-post="${plan.postId}"]`)).toBeVisible();
  await expect(chip).toBeFocused();

  // Into the past: in the week, an hour earlier the same day (at midnight, the day before in
  // the month): refused with the reason, and the post stays where it is.
  const hour = plan.time.slice(0, 2);
  const view = hour === "00" ? "month" : "week";
  await page.goto(`/calendar?view=${view}&date=${plan.dropDay}`);
  await waitForHydration(page);
  const moved = page.locator(`[data-post="${plan.postId}"]`);
  await moved.focus();
  await page.keyboard.press("Space");
  await page.keyboard.press(view === "week" ? "ArrowUp" : "ArrowLeft");
  await page.keyboard.press("Enter");
  await expect(page.getByRole("alert").filter({ hasText: "was not moved" })).toContainText("has already passed");
  await expect(moved).toHaveAttribute("data-local", `${plan.dropDay}T${plan.time}`);
  await expect(page.locator(`[data-slot^="${plan.dropDay}"] [data-post="${plan.postId}"]`)).toBeVisible();

  await seeItGoOut(page, plan);
  expect(problems).toEqual([]);
});
