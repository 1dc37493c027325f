import { execFileSync } from "node:child_process";
import { expect, type Page } from "@playwright/test";

export const PASSWORD = "correct horse battery";

export function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** A 4xx answer the test provoked on purpose (a wrong password) is logged by Chromium too. */
const EXPECTED_CLIENT_ERROR = /Failed to load resource: the server responded with a status of 4\d\d/;

/** Collects script errors, CSP violations and failed loads (other than expected 4xx answers). */
export function watchForPageErrors(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    const text = message.text();
    if (/Content Security Policy/i.test(text) || (message.type() === "error" && !EXPECTED_CLIENT_ERROR.test(text))) {
      problems.push(`console ${message.type()}: ${text}`);
    }
  });
  return problems;
}

/** The app marks <html data-hydrated> once the wasm has taken over the page. */
export async function waitForHydration(page: Page): Promise<void> {
  await expect(page.locator("html")).toHaveAttribute("data-hydrated", "true");
}

export async function register(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto("/register");
  await waitForHydration(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByTestId("user-email")).toHaveText(email);
}

export async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  await page.goto("/login");
  await waitForHydration(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** Connects a sandbox X account through the real OAuth round trip (the fake's consent page). */
export async function connectSandboxX(page: Page, username: string): Promise<void> {
  await page.goto("/connections");
  await waitForHydration(page);
  await page.getByRole("button", { name: "Connect X" }).click();
  await expect(page.getByRole("heading", { name: /Sandbox X — authorize/ })).toBeVisible();
  await page.getByLabel("Sandbox account").fill(username);
  await page.getByRole("button", { name: "Authorize app" }).click();
  await expect(page).toHaveURL(/\/connections\?connected=/);
  await expect(page.getByText(`Connected @${username}.`)).toBeVisible();
}

/**
 * Connects a sandbox account of `platform` through its fake's consent page ("Allow"), which is
 * `consent`'s (Instagram accounts are connected through Facebook Login).
 */
export async function connectSandbox(page: Page, platform: string, username: string, consent = platform): Promise<void> {
  await page.goto("/connections");
  await waitForHydration(page);
  await page.getByRole("button", { name: `Connect ${platform}` }).click();
  await expect(page.getByRole("heading", { name: new RegExp(`Sandbox ${consent} — authorize`) })).toBeVisible();
  await page.getByLabel("Sandbox account").fill(username);
  await page.getByRole("button", { name: "Allow" }).click();
  await expect(page).toHaveURL(/\/connections\?connected=/);
}

/** An MP4 of `seconds` of ffmpeg's test pattern at about `megabits` per second, written to `path`. */
export function makeVideo(path: string, seconds: number, megabits: number): string {
  execFileSync("ffmpeg", [
    "-v", "error", "-y", "-f", "lavfi", "-i", `testsrc=size=640x360:rate=30:duration=${seconds}`,
    // A constant rate, padded: the test pattern alone compresses to almost nothing.
    "-c:v", "libx264", "-pix_fmt", "yuv420p", "-b:v", `${megabits}M`, "-minrate", `${megabits}M`,
    "-maxrate", `${megabits}M`, "-bufsize", "2M", "-x264-params", "nal-hrd=cbr", "-movflags", "+faststart", path,
  ]);
  return path;
}
