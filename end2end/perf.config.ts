import base from "./playwright.config";
import { defineConfig } from "@playwright/test";

// The calendar's measurement (`make bench-calendar`): the same browser and server set-up as the
// browser tests, against the release site and binary, with the post tiers opened up so the
// month can be filled. It prints figures; it asserts only that the page works.
export default defineConfig({ ...base, testDir: "perf", outputDir: "test-results/perf", timeout: 600_000 });
