// Waits for every promise to settle, for at most ms; true when they all did in time.
export async function settleWithin(promises: Iterable<Promise<unknown>>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([Promise.allSettled([...promises]).then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
