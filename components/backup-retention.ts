/**
 * How long backups live, in one place: Velero's schedules take their TTLs from here, the
 * stores keep overwritten or deleted objects for `NONCURRENT_VERSION_DAYS`, and each store's
 * access log is kept for as long as any backup object can still be in the store. Changing a
 * TTL here lengthens the logs with it.
 */

/** Velero's schedules' TTLs (components/platform/velero.ts), in hours. */
export const BACKUP_TTL_HOURS = { hourly: 72, daily: 720, weekly: 2160 } as const;

/** How long a store keeps an overwritten or deleted backup object (a noncurrent version, a soft-deleted blob). */
export const NONCURRENT_VERSION_DAYS = 30;

/** The longest a backup is kept before Velero deletes it. */
export const LONGEST_BACKUP_DAYS = Math.ceil(Math.max(...Object.values(BACKUP_TTL_HOURS)) / 24);

/**
 * Access logs of a backup store are kept this long: the longest TTL, then the noncurrent
 * version's life, so every read, write and delete of any object still in the store is on record.
 */
export const BACKUP_ACCESS_LOG_DAYS = LONGEST_BACKUP_DAYS + NONCURRENT_VERSION_DAYS;
