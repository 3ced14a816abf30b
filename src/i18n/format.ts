import type { Language, Translate } from '.';

const dateTimeOptions: Intl.DateTimeFormatOptions = { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC', timeZoneName: 'short' };

/** A date and time for a reader, by their language's conventions (Intl), in UTC with the zone named. */
export function formatDateTime(language: Language, date: Date): string {
  return new Intl.DateTimeFormat(language, dateTimeOptions).format(date);
}

/** A day for a reader, by their language's conventions ("1 de diciembre de 2026", "2026年12月1日"). */
export function formatDate(language: Language, date: Date): string {
  return new Intl.DateTimeFormat(language, { dateStyle: 'long', timeZone: 'UTC' }).format(date);
}

/**
 * A moment on a card or in a message: English keeps the sortable "2026-11-24 09:00 UTC" its readers
 * (and their scripts) know; every other language gets its own conventions ("24 nov 2026, 09:00 UTC").
 */
export function formatMoment(t: Translate, date: Date): string {
  if (!t.language || t.language === 'en') return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return formatDateTime(t.language, date);
}
