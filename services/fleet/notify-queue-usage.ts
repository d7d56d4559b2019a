/**
 * The authority's NOTIFY queue use (`pg_notification_queue_usage()`, 0..1) as a host last read
 * it: one call of the holder's alert when it reaches QUEUE_USAGE_ALERT, again only after it fell
 * below half of that.
 */

/** NOTIFY queue use (0..1) from which a host alerts. */
export const QUEUE_USAGE_ALERT = 0.5;

export class NotifyQueueUsage {
  usage = 0;
  private alerted = false;

  constructor(private readonly alert: (usage: number) => void) {}

  track(usage: number): void {
    this.usage = usage;
    if (usage >= QUEUE_USAGE_ALERT && !this.alerted) {
      this.alerted = true;
      this.alert(usage);
    } else if (usage < QUEUE_USAGE_ALERT / 2) {
      this.alerted = false;
    }
  }
}
