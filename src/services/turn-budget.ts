// Work that many requests arriving together would do in one turn of the event loop, spread over
// several: a burst of 100 tasks of 1,000 URLs had most of their URLs parsed and checked in the same
// few turns, and every other request (a /healthz too) waited for all of it.
export class TurnBudget {
  private used = 0;
  private turnEnds = false;
  private readonly waiting: Array<{ units: number; resolve: () => void }> = [];

  constructor(private readonly perTurn: number) {}

  /**
   * Resolves when `units` of work may run in this turn: at once while the turn has room (a job larger
   * than the budget runs alone in a turn), else in a later turn, first come first served.
   */
  take(units: number): Promise<void> | undefined {
    if (this.waiting.length === 0 && this.fits(units)) {
      this.charge(units);
      return undefined;
    }
    return new Promise<void>((resolve) => this.waiting.push({ units, resolve }));
  }

  private fits(units: number): boolean {
    return this.used === 0 || this.used + units <= this.perTurn;
  }

  private charge(units: number): void {
    this.used += units;
    if (this.turnEnds) return;
    this.turnEnds = true;
    // Runs after this turn's I/O callbacks; what it lets run schedules the next one, which runs only
    // after the loop has polled for I/O again.
    setImmediate(() => {
      this.turnEnds = false;
      this.used = 0;
      while (this.waiting.length > 0 && this.fits(this.waiting[0].units)) {
        const w = this.waiting.shift()!;
        this.charge(w.units);
        w.resolve();
      }
    });
  }
}
