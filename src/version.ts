/** wsim's version (kept equal to package.json's by a test). */
export const WSIM_VERSION = "0.1.0";
/** The JSON output's schema number (SPEC §5). */
export const SCHEMA = 1;
