import { expect, test } from "@playwright/test";
import { PASSWORD, register, uniqueEmail } from "./helpers";

// The interactive parts of a page are islands, and each page's islands arrive as wasm chunks of
// their own. A chunk that cannot be fetched (a flaky network, a deploy in between) must leave a
// page that still works as plain HTML: its forms post and report their errors.
test("sign-in works as a plain form when its wasm chunk cannot load", async ({ page, browser }) => {
  const email = uniqueEmail("nochunk");
  await register(page, email);

  const visitor = await browser.newPage();
  let blocked = 0;
  await visitor.route(/\/pkg\/split_auth_form[^/]*\.wasm$/, (route) => {
    blocked += 1;
    return route.abort("internetdisconnected");
  });
  await visitor.goto("/login");
  await expect.poll(() => blocked).toBeGreaterThan(0);

  await visitor.getByLabel("Email").fill(email);
  await visitor.getByLabel("Password").fill("not the password");
  await visitor.getByRole("button", { name: "Sign in" }).click();
  await expect(visitor.getByRole("alert")).toHaveText("The email or password is not correct.");
  await expect(visitor.getByLabel("Email")).toHaveValue(email);

  await visitor.getByLabel("Password").fill(PASSWORD);
  await visitor.getByRole("button", { name: "Sign in" }).click();
  await expect(visitor).toHaveURL(/\/settings$/);
  await expect(visitor.getByTestId("user-email")).toHaveText(email);
  await visitor.close();
});

test("a page fetches only its own islands' code", async ({ page }) => {
  await register(page, uniqueEmail("chunks"));

  // A page of its own, signed in through the same context: the page left behind by
  // registering may still be fetching its own islands.
  const posts = await page.context().newPage();
  const fetched: string[] = [];
  posts.on("request", (request) => {
    const name = new URL(request.url()).pathname.match(/\/pkg\/split_([a-z_]+?)_loader/)?.[1];
    if (name) fetched.push(name);
  });
  await posts.goto("/posts");
  await expect(posts.locator("html")).toHaveAttribute("data-hydrated", "true");
  await posts.waitForLoadState("networkidle");
  expect(fetched).toEqual(["post_feed"]);
  await posts.close();
});
