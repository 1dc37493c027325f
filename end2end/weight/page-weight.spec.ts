import { expect, test, type Browser, type Page } from "@playwright/test";
import { connectSandboxX, register, uniqueEmail, waitForHydration } from "../tests/helpers";

// What a first visit to each page downloads of the site's code (wasm, JS and CSS), as the
// browser receives it: compressed, from an empty cache. Fonts and images are content and not
// counted. The budget is 250 KB for every page. The AI Studio's caption editor, the heaviest
// part of any page, loads when an account's caption is first shown, and its caption reader
// when captions are first asked for, not with the page.
const BUDGET_BYTES = 250_000;
const SITE_CODE = /\/pkg\/[^?]*\.(wasm|js|css)$/;

type Weight = { path: string; files: number; bytes: number; encodings: string[] };

/** Loads `path` in a fresh context (empty cache, same cookies) and adds up the site's code. */
async function weigh(browser: Browser, storageState: Awaited<ReturnType<Page["context"]>["storageState"]>, path: string): Promise<Weight> {
  const context = await browser.newContext({ storageState });
  const page = await context.newPage();
  const sizes: Promise<number>[] = [];
  const encodings = new Set<string>();
  page.on("requestfinished", (request) => {
    if (SITE_CODE.test(new URL(request.url()).pathname)) {
      sizes.push(request.sizes().then((size) => size.responseBodySize));
      request.response().then((response) => encodings.add(response?.headers()["content-encoding"] ?? "identity"));
    }
  });
  await page.goto(path);
  await waitForHydration(page);
  await page.waitForLoadState("networkidle");
  const bytes = (await Promise.all(sizes)).reduce((sum, size) => sum + size, 0);
  await context.close();
  return { path, files: sizes.length, bytes, encodings: [...encodings] };
}

test("every page's first load stays within the page-weight budget", async ({ browser, page }) => {
  test.setTimeout(120_000);
  await register(page, uniqueEmail("weight"));
  await connectSandboxX(page, `weight${Date.now() % 1_000_000}`);
  await page.goto("/compose");
  await waitForHydration(page);
  await page.getByLabel("Text", { exact: true }).fill("A draft to weigh the post page with");
  await page.getByLabel("Save as draft").check();
  await page.getByRole("button", { name: "Save draft" }).click();
  await expect(page).toHaveURL(/\/posts\/[0-9a-f-]+/);
  const postPath = new URL(page.url()).pathname;
  const signedIn = await page.context().storageState();

  const weights: Weight[] = [];
  const pages = ["/compose", "/studio", "/posts", postPath, "/calendar", "/calendar?view=week", "/analytics", "/templates", "/media", "/connections", "/products", "/settings"];
  for (const path of pages) {
    weights.push(await weigh(browser, signedIn, path));
  }
  for (const path of ["/login", "/register"]) {
    weights.push(await weigh(browser, { cookies: [], origins: [] }, path));
  }

  console.log("first load of the site's code (wasm + JS + CSS, compressed, empty cache):");
  for (const { path, files, bytes } of weights) {
    const shown = path.startsWith("/posts/") ? "/posts/:id" : path;
    console.log(`  ${shown.padEnd(20)} ${String(bytes).padStart(8)} B in ${files} files`);
  }
  for (const weight of weights) {
    // The site is compressed at build time; a page sent uncompressed would pass unnoticed.
    expect(weight.encodings, `${weight.path} is not sent brotli-compressed`).toEqual(["br"]);
    expect(weight.bytes, `${weight.path} downloads more than its budget`).toBeLessThanOrEqual(BUDGET_BYTES);
  }
});
