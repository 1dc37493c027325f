import base from "./playwright.config";
import { defineConfig } from "@playwright/test";

// The page-weight check (`make test-weight`, also part of `make test` and `make bench`): the
// same browser and server set-up as the browser tests, run against the release site.
export default defineConfig({ ...base, testDir: "weight", outputDir: "test-results/weight" });
