import { Injectable } from '@nestjs/common';

// The clock is I/O too: services ask it, so a spec can hold time still.
@Injectable()
export class Clock {
  now(): number {
    return Date.now();
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
}
