import type { Language } from '.';

const dateTimeOptions: Intl.DateTimeFormatOptions = { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC', timeZoneName: 'short' };

/** A date and time for a reader, by their language's conventions (Intl), in UTC with the zone named. */
export function formatDateTime(language: Language, date: Date): string {
  return new Intl.DateTimeFormat(language, dateTimeOptions).format(date);
}

/** A day for a reader, by their language's conventions ("1 de diciembre de 2026", "2026年12月1日"). */
export function formatDate(language: Language, date: Date): string {
  return new Intl.DateTimeFormat(language, { dateStyle: 'long', timeZone: 'UTC' }).format(date);
}
