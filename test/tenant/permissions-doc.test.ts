import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { EXCHANGE_APP_PERMISSION, exchangeRoleFor, exchangeRoleForParameter, graphPermissionFor } from '../../src/tenant/permissions';

/** A refused call names an entry of src/tenant/permissions.ts; the admin looks it up in docs/permissions.md. */
describe('docs/permissions.md explains every permission and role the code can name', () => {
  const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'permissions.md'), 'utf8');
  const named = new Set([...Object.values(graphPermissionFor), ...Object.values(exchangeRoleFor), ...Object.values(exchangeRoleForParameter), EXCHANGE_APP_PERMISSION]);

  test.each([...named])('%s has a row or paragraph of its own', (permission) => {
    expect(doc).toContain(`\`${permission}\``);
  });

  test('every cmdlet SMTP Gate runs is listed with its role', () => {
    for (const cmdlet of Object.keys(exchangeRoleFor)) expect(doc).toContain(cmdlet);
  });
});
