/** Words in output: counts with their noun in the right number. */

/**
 * `n noun`, with the plural when n is not 1: plural(1, "process", "processes") is
 * "1 process", plural(2, "event") is "2 events". `many` defaults to noun + "s".
 */
export function plural(n: number, noun: string, many = noun + "s"): string {
  return `${n} ${n === 1 ? noun : many}`;
}
