// Kept apart from git.ts so that the command line can recognise it without loading git's modules at start-up.
import { UserError } from "../errors.js";

/** A repository problem the user can fix (not a git repository, an unknown revision): exit 2, one line. */
export class RepositoryError extends UserError {}
