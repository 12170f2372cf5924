/** faultline's version, as deno.json gives it. */
export const VERSION = "0.1.0";
