// Errors of the registry, store and revocation modules whose message is already a full sentence for the user.
import { DateError } from "../registry/dates.js";
import { MintError } from "../registry/mint.js";
import { RegistryError } from "../registry/registry.js";
import { QueueError } from "../revoke/queue.js";
import { ProviderSettingsError } from "../revoke/settings.js";
import { TriageError } from "../revoke/triage.js";
import { StoreError } from "../store/database.js";
import { MigrationError } from "../store/migrations.js";
import { SealError } from "../store/secret-box.js";

export const EXPECTED_STORE_ERRORS = [
  StoreError,
  MigrationError,
  SealError,
  RegistryError,
  DateError,
  MintError,
  QueueError,
  ProviderSettingsError,
  TriageError,
];
