import { expect, test } from "@playwright/test";
import { connectSandboxX, register, uniqueEmail, waitForHydration, watchForPageErrors } from "./helpers";

// The server reads posts' numbers every 2 s here (run.sh sets POST_METRICS_SECS). The sandbox X
// is told to report numbers as if three days had passed, so a post published now already has
// engagement to chart.

/** `1,234` -> 1234. */
function figure(text: string | null): number {
  return Number((text ?? "").replace(/[^0-9-]/g, ""));
}

test("the Analytics page charts published posts, and its table says the same", async ({ page }) => {
  test.setTimeout(120_000);
  const problems = watchForPageErrors(page);
  await register(page, uniqueEmail("analytics"));
  const username = `stats${Date.now() % 1_000_000}`;
  await connectSandboxX(page, username);

  await page.goto("/sandbox/x/_control");
  await page.getByLabel("Report posts' numbers as if this many days had passed").fill("3");
  await page.getByRole("button", { name: "Fast-forward the numbers" }).click();
  await expect(page.getByLabel("Report posts' numbers as if this many days had passed")).toHaveValue("3");

  for (const text of ["Glazes in autumn colours", "Kiln day: twelve new mugs"]) {
    await page.goto("/compose");
    await waitForHydration(page);
    await page.getByLabel("Text", { exact: true }).fill(`${text} ${Date.now()}`);
    await page.getByLabel(`@${username} on X`).check();
    await page.getByRole("button", { name: "Publish now" }).click();
    await expect(page).toHaveURL(/\/posts\/[0-9a-f-]+/);
    await expect(page.getByText("Published", { exact: true }).first()).toBeVisible({ timeout: 20_000 });
  }

  // The numbers arrive with the next reading rounds: both posts read.
  const points = page.locator("svg.chart circle[data-platform='x']");
  const xRow = page.locator("#totals-table tbody tr").filter({ hasText: "X" });
  await expect(async () => {
    await page.goto("/analytics?range=7");
    expect(await points.count()).toBeGreaterThan(0);
    expect(figure(await xRow.locator("td").first().textContent())).toBe(2);
  }).toPass({ timeout: 60_000 });

  await expect(page.getByRole("img", { name: /Engagement by day of publishing/ })).toBeVisible();
  await page.getByText("The chart's numbers").click();
  let charted = 0;
  for (const point of await points.all()) {
    const day = await point.getAttribute("data-day");
    const value = Number(await point.getAttribute("data-value"));
    expect(value).toBeGreaterThan(0);
    await expect(page.locator(`#chart-table td[data-platform='x'][data-day='${day}']`)).toHaveText(value.toLocaleString("en-US"));
    charted += value;
  }
  // Every day of the chart sums to the platform's total engagement.
  expect(figure(await xRow.locator("td").last().textContent())).toBe(charted);
  await expect(page.getByRole("heading", { name: "Best posts" })).toBeVisible();
  await expect(page.locator(".best-post")).toHaveCount(2);
  await expect(page.getByRole("table", { name: /by weekday and hour/ })).toBeVisible();
  expect(problems).toEqual([]);
});
