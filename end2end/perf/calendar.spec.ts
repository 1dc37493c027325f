import { expect, test, type Page } from "@playwright/test";
import { connectSandboxX, register, uniqueEmail, waitForHydration } from "../tests/helpers";

// The calendar's month view with 2,000 posts in the month: how long the server takes to draw
// it, how long the browser takes to show it, and how long a drag takes from the drop to the
// post settled in its new day (the server's answer and the page's update). Reported, not
// asserted: the figures go to the closing notes and the README.

const POSTS = Number(process.env.CALENDAR_POSTS ?? 2_000);
const ROUNDS = 10;
const DRAGS = 8;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function percentile(values: number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)];
}

/** The first day of the month after this one, `YYYY-MM-DD`. */
function nextMonth(): { first: string; days: number } {
  const now = new Date();
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  const after = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 2, 1));
  return { first: first.toISOString().slice(0, 10), days: Math.round((after.getTime() - first.getTime()) / 86_400_000) };
}

async function connectionId(page: Page, username: string): Promise<string> {
  const overview = await (await page.request.get("/api/connections")).json();
  return overview.connections.find((connection: { handle: string }) => connection.handle === username).id;
}

test("the month view with 2,000 posts: server render and drag latency", async ({ page }) => {
  await register(page, uniqueEmail("perf"));
  const username = `perf${Date.now() % 1_000_000}`;
  await connectSandboxX(page, username);
  const connection = await connectionId(page, username);
  const { first, days } = nextMonth();

  // Fill next month: spread over its days and the working hours, eight requests at a time.
  const started = Date.now();
  const queue = Array.from({ length: POSTS }, (_, index) => index);
  const send = async () => {
    for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
      const day = new Date(`${first}T12:00:00Z`);
      day.setUTCDate(day.getUTCDate() + (index % days));
      const hour = 8 + (index % 11);
      const minute = (index * 7) % 60;
      const local = `${day.toISOString().slice(0, 10)}T${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}`;
      const response = await page.request.post("/api/posts", {
        data: { text: `Calendar load ${index}: new mugs and bowls this week`, targets: [{ connection_id: connection }], schedule: { local } },
      });
      expect(response.status(), await response.text()).toBe(201);
    }
  };
  await Promise.all(Array.from({ length: 8 }, send));
  console.log(`seeded ${POSTS} posts in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const month = `/calendar?view=month&date=${first}`;
  const week = `/calendar?view=week&date=${first}`;
  for (const [name, path] of [["month", month], ["week", week]]) {
    const server: number[] = [];
    const shown: number[] = [];
    let bytes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = performance.now();
      const response = await page.request.get(path);
      const body = await response.text();
      server.push(performance.now() - t0);
      bytes = body.length;
      await page.goto(path);
      const timing = await page.evaluate(() => {
        const entry = performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming;
        return entry.domContentLoadedEventEnd - entry.startTime;
      });
      shown.push(timing);
    }
    console.log(
      `${name} view (${path}): server answer p50 ${median(server).toFixed(1)} ms, p95 ${percentile(server, 0.95).toFixed(1)} ms, ` +
        `${(bytes / 1024).toFixed(0)} KiB of HTML; browser DOMContentLoaded p50 ${median(shown).toFixed(1)} ms`,
    );
  }

  // Drags: from the drop to the post in its new cell with the server's answer in, measured in
  // the page itself (Playwright's own mouse steps are not counted).
  // Each drag goes to the next day in the same week row, with the whole month in view: a drag
  // to a cell that must first be scrolled to drops where the cell was before the scroll.
  await page.setViewportSize({ width: 1600, height: 2400 });
  await page.goto(month);
  await waitForHydration(page);
  const latencies: number[] = [];
  const sources = Array.from({ length: days - 1 }, (_, index) => {
    const day = new Date(`${first}T12:00:00Z`);
    day.setUTCDate(day.getUTCDate() + index);
    return day;
  }).filter((day) => day.getUTCDay() !== 0);
  for (const source of sources.slice(0, DRAGS)) {
    const target = new Date(source);
    target.setUTCDate(target.getUTCDate() + 1);
    const sourceDay = source.toISOString().slice(0, 10);
    const targetDay = target.toISOString().slice(0, 10);
    const chip = page.locator(`[data-slot="${sourceDay}"] [data-post]`).first();
    const postId = await chip.getAttribute("data-post");
    const slot = page.locator(`[data-slot="${targetDay}"]`);
    const excerpt = (await chip.getAttribute("data-excerpt")) ?? "";
    await page.evaluate(([id, excerpt, targetDay]) => {
      const w = window as unknown as { dropAt?: number; settledAt?: number };
      w.dropAt = undefined;
      w.settledAt = undefined;
      document.addEventListener("drop", () => (w.dropAt = performance.now()), { capture: true, once: true });
      const observer = new MutationObserver(() => {
        const status = document.querySelector("[role=status]");
        const text = status?.textContent ?? "";
        const slot = document.querySelector(`[data-post="${id}"]`)?.closest("[data-slot]")?.getAttribute("data-slot");
        if (text.startsWith("Moved") && text.includes(excerpt) && slot === targetDay) {
          w.settledAt = performance.now();
          observer.disconnect();
        }
      });
      observer.observe(document.body, { subtree: true, childList: true, characterData: true });
    }, [postId, excerpt, targetDay]);
    await chip.dragTo(slot);
    await expect(slot.locator(`[data-post="${postId}"]`)).toBeVisible();
    const latency = await page.evaluate(() => {
      const w = window as unknown as { dropAt?: number; settledAt?: number };
      return (w.settledAt ?? NaN) - (w.dropAt ?? NaN);
    });
    latencies.push(latency);
  }
  console.log(
    `drag to the next day, drop to settled (${latencies.length} drags): p50 ${median(latencies).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
  );
});
