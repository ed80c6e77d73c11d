/** Whole seconds since the process started. */
export function uptimeSeconds(): number {
  return Math.floor(process.uptime());
}
