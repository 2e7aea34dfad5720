namespace Gatekeeper.Core.Lint;

/// <summary>
/// The rule catalogue. Ids are stable: a rule may be reworded or refined, never renumbered or reused, because
/// teams write them into directives and annotations. docs/lint-rules.md documents every rule and its anchors.
/// </summary>
public static class LintRules
{
    // GK0xx — the input itself.
    public static readonly LintRule SyntaxProblem = new(
        "GK001", "syntax-problem", LintCategory.Input, LintSeverity.Error, LintDialects.Both,
        "The SQL cannot be read as written (unterminated quote, comment or dollar quote)",
        "Close the quote or comment; the server would read everything after it as part of the same token.",
        Anchors: ["squawk:syntax-error"]);

    public static readonly LintRule InvalidDirective = new(
        "GK002", "invalid-allow-directive", LintCategory.Input, LintSeverity.Error, LintDialects.Both,
        "An allow directive or annotation entry is malformed, names an unknown rule, or gives no reason",
        "Write `-- gatekeeper:allow GK101 <why this is safe here>` with a known rule id or category and a reason.");

    public static readonly LintRule UnusedDirective = new(
        "GK003", "unused-allow-directive", LintCategory.Input, LintSeverity.Warning, LintDialects.Both,
        "An allow directive suppresses nothing",
        "Remove the directive, or move it to the comment lines just before the statement it is meant for.",
        Anchors: ["squawk:unused-ignore"]);

    public static readonly LintRule RefusedByServer = new(
        "GK004", "refused-by-server", LintCategory.Input, LintSeverity.Error, LintDialects.MySql,
        "The server the migration runs on refuses this statement at its version (or engine), so the migration fails there",
        "Write it as that server accepts it (the finding says from which version it is accepted), or pass the real version with --server-version.");

    // GK1xx — destructive.
    public static readonly LintRule DropTable = new(
        "GK101", "drop-table", LintCategory.Destructive, LintSeverity.Error, LintDialects.Both,
        "DROP TABLE deletes the table and every row in it",
        "Stop reading and writing the table in one release, drop it in a later one, and keep a backup if the data may be needed.",
        Anchors: ["squawk:ban-drop-table", "atlas:DS102"]);

    public static readonly LintRule DropColumn = new(
        "GK102", "drop-column", LintCategory.Destructive, LintSeverity.Error, LintDialects.Both,
        "DROP COLUMN deletes the column's data, and the running version may still read or write it",
        "Expand/contract: ship a release that no longer uses the column, then drop it in a later migration.",
        Anchors: ["squawk:ban-drop-column", "atlas:DS103"]);

    public static readonly LintRule DropSchemaOrDatabase = new(
        "GK103", "drop-schema-or-database", LintCategory.Destructive, LintSeverity.Error, LintDialects.Both,
        "DROP SCHEMA/DATABASE deletes every object and row in it",
        "Drop the objects one by one in migrations that say what they remove, or do this by hand outside the rollout.",
        Anchors: ["squawk:ban-drop-database", "atlas:DS101"]);

    public static readonly LintRule Truncate = new(
        "GK104", "truncate", LintCategory.Destructive, LintSeverity.Error, LintDialects.Both,
        "TRUNCATE deletes every row and takes an ACCESS EXCLUSIVE lock",
        "Delete the rows you mean in batches with a WHERE clause, or truncate by hand if the table is truly disposable.");

    public static readonly LintRule TruncateCascade = new(
        "GK105", "truncate-cascade", LintCategory.Destructive, LintSeverity.Error, LintDialects.Postgres,
        "TRUNCATE … CASCADE also empties every table that references this one, recursively",
        "Name every table you mean to empty and leave CASCADE out, so a forgotten foreign key fails instead of deleting data.",
        Anchors: ["squawk:ban-truncate-cascade"]);

    public static readonly LintRule DeleteWithoutWhere = new(
        "GK106", "delete-without-where", LintCategory.Destructive, LintSeverity.Error, LintDialects.Both,
        "DELETE without WHERE deletes every row in one long transaction",
        "Add the WHERE clause you mean; to empty a large table, delete in batches (… WHERE id IN (SELECT id … LIMIT 10000)).");

    public static readonly LintRule DropCascade = new(
        "GK107", "drop-cascade", LintCategory.Destructive, LintSeverity.Warning, LintDialects.Postgres,
        "DROP … CASCADE silently drops every object that depends on this one (views, foreign keys, columns of a dropped type)",
        "Drop the dependent objects explicitly first and leave CASCADE out, so an unknown dependency fails the migration instead.");

    public static readonly LintRule DropConstraint = new(
        "GK108", "drop-constraint", LintCategory.Destructive, LintSeverity.Warning, LintDialects.Both,
        "Dropping a foreign key, unique or primary key stops the database from protecting the data's integrity",
        "Make sure the application enforces the rule before the constraint goes, or replace it in the same migration.",
        Anchors: ["atlas:CD101", "atlas:CD102", "atlas:CD103"]);

    public static readonly LintRule DropPartition = new(
        "GK109", "drop-partition", LintCategory.Destructive, LintSeverity.Error, LintDialects.MySql,
        "DROP PARTITION and TRUNCATE PARTITION delete every row stored in the partition",
        "Make sure the rows are no longer needed (or archived, e.g. with EXCHANGE PARTITION into a table of their own) before the partition goes; a retention job outside the rollout is often the better place.");

    // GK2xx — backward-incompatible with the version still running.
    public static readonly LintRule RenameTable = new(
        "GK201", "rename-table", LintCategory.BackwardIncompatible, LintSeverity.Error, LintDialects.Both,
        "Renaming a table breaks every query of the version still running during the rollout",
        "Expand/contract: create the new table (or a view with the old name over it), move the app, then drop the old name later.",
        Anchors: ["squawk:renaming-table", "atlas:BC101"]);

    public static readonly LintRule RenameColumn = new(
        "GK202", "rename-column", LintCategory.BackwardIncompatible, LintSeverity.Error, LintDialects.Both,
        "Renaming a column breaks every query of the version still running during the rollout",
        "Expand/contract: add the new column, write both and backfill, switch reads, then drop the old column in a later release.",
        Anchors: ["squawk:renaming-column", "atlas:BC102"]);

    public static readonly LintRule RenameObject = new(
        "GK203", "rename-object", LintCategory.BackwardIncompatible, LintSeverity.Error, LintDialects.Postgres,
        "Renaming a view, sequence, function, type, enum value or schema breaks the version still running",
        "Create the object under the new name next to the old one, move the app, and drop the old name in a later release.");

    public static readonly LintRule AddRequiredColumn = new(
        "GK204", "add-required-column", LintCategory.BackwardIncompatible, LintSeverity.Error, LintDialects.Both,
        "Adding a NOT NULL column without a default breaks the running version's inserts and fails on a non-empty table",
        "Add the column with a DEFAULT (no rewrite since PostgreSQL 11), or add it nullable, backfill, then add NOT NULL later.",
        Anchors: ["squawk:adding-required-field", "atlas:MF103", "atlas:MY101"]);

    public static readonly LintRule DropDefaultOfRequiredColumn = new(
        "GK205", "drop-default-of-required-column", LintCategory.BackwardIncompatible, LintSeverity.Error, LintDialects.Both,
        "Dropping the DEFAULT of a NOT NULL column breaks every insert of the running version that leaves the column out",
        "Keep the default until no running version relies on it (or drop NOT NULL first, in an earlier release).");

    public static readonly LintRule DropObjectInUse = new(
        "GK206", "drop-object-in-use", LintCategory.BackwardIncompatible, LintSeverity.Warning, LintDialects.Both,
        "Dropping a view, function, sequence or type breaks the running version if it still uses it",
        "Drop it in a release after the one that stopped using it; to replace it, use CREATE OR REPLACE or recreate it in the same migration.");

    public static readonly LintRule DropNotNull = new(
        "GK207", "drop-not-null", LintCategory.BackwardIncompatible, LintSeverity.Warning, LintDialects.Both,
        "Dropping NOT NULL lets new code write NULLs that the running version may not expect when it reads them",
        "Make sure every running version handles NULL in this column before it can contain one.",
        Anchors: ["squawk:ban-drop-not-null"]);

    public static readonly LintRule RedefineColumnDropsAttributes = new(
        "GK208", "redefine-column-drops-attributes", LintCategory.BackwardIncompatible, LintSeverity.Error, LintDialects.MySql,
        "MODIFY/CHANGE replaces the whole column definition: attributes not repeated (NOT NULL, DEFAULT, COMMENT, AUTO_INCREMENT) are silently dropped",
        "Repeat every attribute the column keeps in the MODIFY/CHANGE clause, or use ALTER COLUMN … SET DEFAULT / RENAME COLUMN for single changes.");

    // GK3xx — locks and rewrites.
    public static readonly LintRule ColumnTypeRewrite = new(
        "GK301", "column-type-rewrite", LintCategory.Locking, LintSeverity.Error, LintDialects.Postgres,
        "Changing a column's type rewrites the table (and its indexes) under an exclusive lock, and may break the running version",
        "Add a column of the new type, backfill it in batches, switch the app, then drop the old column; widening varchar/numeric or varchar → text is free.",
        SizeDependent: true,
        Anchors: ["squawk:changing-column-type", "atlas:PG301"]);

    public static readonly LintRule SetNotNullScan = new(
        "GK302", "set-not-null-scan", LintCategory.Locking, LintSeverity.Error, LintDialects.Postgres,
        "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock",
        "Add CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT in a separate transaction, then SET NOT NULL (PostgreSQL 12+ skips the scan) and drop the check.",
        SizeDependent: true,
        Anchors: ["squawk:adding-not-nullable-field", "atlas:PG303"]);

    public static readonly LintRule CreateIndexNotConcurrently = new(
        "GK303", "create-index-not-concurrently", LintCategory.Locking, LintSeverity.Error, LintDialects.Postgres,
        "CREATE INDEX without CONCURRENTLY blocks every write to the table while the index builds",
        "Use CREATE INDEX CONCURRENTLY in a migration that runs outside a transaction.",
        SizeDependent: true,
        Anchors: ["squawk:require-concurrent-index-creation", "atlas:PG101"]);

    public static readonly LintRule DropIndexNotConcurrently = new(
        "GK304", "drop-index-not-concurrently", LintCategory.Locking, LintSeverity.Warning, LintDialects.Postgres,
        "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table",
        "Use DROP INDEX CONCURRENTLY in a migration that runs outside a transaction.",
        Anchors: ["squawk:require-concurrent-index-deletion", "atlas:PG102"]);

    public static readonly LintRule ForeignKeyWithoutNotValid = new(
        "GK305", "foreign-key-without-not-valid", LintCategory.Locking, LintSeverity.Error, LintDialects.Both,
        "Adding a foreign key checks every existing row while blocking writes to both tables",
        "PostgreSQL: ADD CONSTRAINT … FOREIGN KEY … NOT VALID, then VALIDATE CONSTRAINT in a separate transaction. MySQL: SET FOREIGN_KEY_CHECKS=0 first so it runs in place.",
        SizeDependent: true,
        Anchors: ["squawk:adding-foreign-key-constraint", "atlas:PG306", "atlas:MY131"]);

    public static readonly LintRule CheckWithoutNotValid = new(
        "GK306", "check-without-not-valid", LintCategory.Locking, LintSeverity.Error, LintDialects.Postgres,
        "Adding a CHECK constraint scans every row under an ACCESS EXCLUSIVE lock",
        "ADD CONSTRAINT … CHECK (…) NOT VALID, then VALIDATE CONSTRAINT in a separate transaction (it only takes a SHARE UPDATE EXCLUSIVE lock).",
        SizeDependent: true,
        Anchors: ["squawk:constraint-missing-not-valid", "atlas:PG305"]);

    public static readonly LintRule UniqueOrPrimaryKeyConstraint = new(
        "GK307", "unique-or-primary-key-constraint", LintCategory.Locking, LintSeverity.Error, LintDialects.Postgres,
        "Adding a UNIQUE or PRIMARY KEY constraint builds its index under an ACCESS EXCLUSIVE lock",
        "CREATE UNIQUE INDEX CONCURRENTLY first (outside a transaction), then ADD CONSTRAINT … UNIQUE/PRIMARY KEY USING INDEX.",
        SizeDependent: true,
        Anchors: ["squawk:disallowed-unique-constraint", "squawk:adding-serial-primary-key-field", "atlas:PG104", "atlas:PG105", "atlas:PG304"]);

    public static readonly LintRule AddColumnRewritesTable = new(
        "GK308", "add-column-rewrites-table", LintCategory.Locking, LintSeverity.Error, LintDialects.Postgres,
        "Adding this column rewrites the whole table under an ACCESS EXCLUSIVE lock (volatile default, serial, identity or stored generated column)",
        "Add the column without the default (or with a constant one), backfill in batches, then SET DEFAULT for new rows.",
        SizeDependent: true,
        Anchors: ["squawk:adding-field-with-default", "atlas:PG302", "atlas:PG309", "atlas:PG310"]);

    public static readonly LintRule UpdateWithoutWhere = new(
        "GK309", "update-without-where", LintCategory.Locking, LintSeverity.Error, LintDialects.Both,
        "UPDATE without WHERE rewrites every row in one transaction: every row stays locked until it commits",
        "Backfill in batches (… WHERE id BETWEEN … or a LIMITed subquery), each in its own transaction, ideally outside the migration.",
        SizeDependent: true);

    public static readonly LintRule MySqlTableCopy = new(
        "GK310", "mysql-table-copy", LintCategory.Locking, LintSeverity.Error, LintDialects.MySql,
        "This ALTER cannot run in place: MySQL copies the whole table and blocks writes until the copy ends",
        "Use an online schema change tool (gh-ost, pt-online-schema-change), or restructure the change so it can run with ALGORITHM=INPLACE/INSTANT.",
        SizeDependent: true,
        Anchors: ["atlas:MY110", "atlas:MY111", "atlas:MY112", "atlas:MY113", "atlas:MY120", "atlas:MY121", "atlas:MY122", "atlas:MY123", "atlas:MY130", "atlas:MY133", "atlas:MY136"]);

    public static readonly LintRule MySqlBlocksWrites = new(
        "GK311", "mysql-blocks-writes", LintCategory.Locking, LintSeverity.Error, LintDialects.MySql,
        "This ALTER blocks writes to the table while it runs (LOCK=SHARED or stronger)",
        "Use an online schema change tool, or add the index/column in a way MySQL supports with LOCK=NONE.",
        SizeDependent: true,
        Anchors: ["atlas:MY134", "atlas:MY135"]);

    public static readonly LintRule MySqlTableRebuild = new(
        "GK312", "mysql-table-rebuild", LintCategory.Locking, LintSeverity.Warning, LintDialects.MySql,
        "This ALTER rebuilds the whole table in place: writes continue, but it takes time, I/O and a metadata lock at both ends",
        "Run it when the table is quiet, or with an online schema change tool for very large tables.",
        Anchors: ["atlas:MY132"]);

    public static readonly LintRule RefreshMaterializedView = new(
        "GK313", "refresh-materialized-view", LintCategory.Locking, LintSeverity.Error, LintDialects.Postgres,
        "REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks every read of the view until the refresh ends",
        "Give the view a unique index and use REFRESH MATERIALIZED VIEW CONCURRENTLY, ideally outside the migration.",
        SizeDependent: true);

    public static readonly LintRule ExplicitLock = new(
        "GK314", "explicit-lock", LintCategory.Locking, LintSeverity.Error, LintDialects.Both,
        "LOCK TABLE blocks other sessions until the migration's transaction ends",
        "Let each statement take the lock it needs for as short as possible; if you must lock, lock in a short, separate migration.");

    public static readonly LintRule TableRewrite = new(
        "GK315", "table-rewrite", LintCategory.Locking, LintSeverity.Error, LintDialects.Postgres,
        "This rewrites the whole table under an ACCESS EXCLUSIVE lock (VACUUM FULL, CLUSTER, SET LOGGED/UNLOGGED/ACCESS METHOD/TABLESPACE)",
        "Use pg_repack / pg_squeeze (or REPACK … CONCURRENTLY on PostgreSQL 19+) outside the migration.",
        SizeDependent: true,
        Anchors: ["squawk:prefer-repack", "atlas:PG307", "atlas:PG311"]);

    public static readonly LintRule ReindexNotConcurrently = new(
        "GK316", "reindex-not-concurrently", LintCategory.Locking, LintSeverity.Error, LintDialects.Postgres,
        "REINDEX without CONCURRENTLY blocks writes to the table and reads through the index while it rebuilds",
        "Use REINDEX … CONCURRENTLY (PostgreSQL 12+) in a migration that runs outside a transaction.",
        SizeDependent: true,
        Anchors: ["squawk:require-concurrent-reindex"]);

    public static readonly LintRule DetachPartitionNotConcurrently = new(
        "GK317", "detach-partition-not-concurrently", LintCategory.Locking, LintSeverity.Warning, LintDialects.Postgres,
        "DETACH PARTITION without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the parent table",
        "Use DETACH PARTITION … CONCURRENTLY (PostgreSQL 14+) in a migration that runs outside a transaction.",
        Anchors: ["squawk:require-concurrent-partition-detach"]);

    public static readonly LintRule CreateTriggerLock = new(
        "GK318", "create-trigger-lock", LintCategory.Locking, LintSeverity.Warning, LintDialects.Postgres,
        "CREATE TRIGGER takes a SHARE ROW EXCLUSIVE lock that blocks writes to the table until the transaction ends",
        "Keep the migration that creates the trigger short, so the lock is released quickly.",
        Anchors: ["atlas:PG308"]);

    public static readonly LintRule AlterDomainAddConstraint = new(
        "GK319", "alter-domain-add-constraint", LintCategory.Locking, LintSeverity.Error, LintDialects.Postgres,
        "ALTER DOMAIN … ADD CONSTRAINT checks every column of every table that uses the domain, under locks",
        "Add the constraint NOT VALID and VALIDATE it separately, or put table-level CHECK constraints on the columns instead.",
        Anchors: ["squawk:ban-alter-domain-with-add-constraint"]);

    public static readonly LintRule PartitionLock = new(
        "GK320", "partition-lock", LintCategory.Locking, LintSeverity.Warning, LintDialects.Postgres,
        "Adding a partition locks the partitioned table or scans rows under a strong lock (CREATE TABLE … PARTITION OF, ATTACH PARTITION)",
        "Create the table on its own (CREATE TABLE … (LIKE parent)), add a CHECK constraint matching the bounds, then ATTACH PARTITION: it takes only a SHARE UPDATE EXCLUSIVE lock on the parent and skips the scan; keep the DEFAULT partition empty.");

    // GK4xx — data-dependent.
    public static readonly LintRule UniqueMayFail = new(
        "GK401", "unique-may-fail", LintCategory.DataDependent, LintSeverity.Warning, LintDialects.Both,
        "A unique index or constraint on an existing table fails if the stored rows already hold duplicates",
        "Check for duplicates first (SELECT cols, count(*) … GROUP BY cols HAVING count(*) > 1) and clean them up in an earlier migration.",
        Anchors: ["atlas:MF101", "atlas:MF102"]);

    public static readonly LintRule NotNullMayFail = new(
        "GK402", "not-null-may-fail", LintCategory.DataDependent, LintSeverity.Warning, LintDialects.Both,
        "Making an existing column NOT NULL fails if any stored row holds NULL (and the running version may still write NULL)",
        "Backfill NULLs (UPDATE … WHERE col IS NULL, in batches) and make sure no running version writes NULL before adding NOT NULL.",
        Anchors: ["atlas:MF104", "atlas:LT101"]);

    public static readonly LintRule NarrowingType = new(
        "GK403", "narrowing-type", LintCategory.DataDependent, LintSeverity.Warning, LintDialects.Both,
        "The new type is narrower than the old one: existing values may not fit, and the migration then fails",
        "Check the stored values first (max(length(col)), min/max) and fix the ones that do not fit in an earlier migration.");

    // GK5xx — transactions and retries.
    public static readonly LintRule NotInTransaction = new(
        "GK501", "cannot-run-in-transaction", LintCategory.Transaction, LintSeverity.Error, LintDialects.Postgres,
        "This statement cannot run inside a transaction block, but this migration runs in one",
        "Put it in its own migration marked as non-transactional (dbmate `transaction:false`, sql-migrate `notransaction`, Atlas `-- atlas:txmode none`).",
        Anchors: ["squawk:ban-concurrent-index-creation-in-transaction", "atlas:PG103", "atlas:TX101"]);

    public static readonly LintRule NewEnumValueInSameTransaction = new(
        "GK502", "new-enum-value-in-same-transaction", LintCategory.Transaction, LintSeverity.Error, LintDialects.Postgres,
        "A value added with ALTER TYPE … ADD VALUE cannot be used until that transaction commits (unsafe use of new value)",
        "Add the enum value in one migration (or a non-transactional one) and use it in a later migration.");

    public static readonly LintRule DdlAndBackfillInOneTransaction = new(
        "GK503", "ddl-and-backfill-in-one-transaction", LintCategory.Transaction, LintSeverity.Error, LintDialects.Postgres,
        "A table-wide backfill runs in the same transaction as DDL that locked a table, so the strong lock is held for the whole backfill",
        "Commit the DDL first (separate migration), then backfill in batches in their own transactions.",
        SizeDependent: true);

    public static readonly LintRule NestedTransaction = new(
        "GK504", "nested-transaction", LintCategory.Transaction, LintSeverity.Warning, LintDialects.Postgres,
        "The file opens its own transaction although the runner already runs it in one: its COMMIT ends the runner's transaction early",
        "Remove BEGIN/COMMIT from the file and let the runner wrap it, or mark the migration as non-transactional.",
        Anchors: ["squawk:transaction-nesting", "atlas:TX201"]);

    public static readonly LintRule UncommittedTransaction = new(
        "GK505", "uncommitted-transaction", LintCategory.Transaction, LintSeverity.Error, LintDialects.Both,
        "A transaction opened in the file is never committed or rolled back",
        "End the file's transaction with COMMIT (or remove BEGIN and let the runner wrap the migration).",
        Anchors: ["squawk:ban-uncommitted-transaction"]);

    public static readonly LintRule MySqlImplicitCommit = new(
        "GK506", "mysql-implicit-commit", LintCategory.Transaction, LintSeverity.Warning, LintDialects.MySql,
        "MySQL commits implicitly before and after DDL, so this START TRANSACTION … COMMIT is not atomic",
        "Do not rely on the transaction: make each statement safe to re-run, or split DDL and data changes into separate migrations.");

    public static readonly LintRule ValidateInSameTransaction = new(
        "GK507", "validate-in-same-transaction", LintCategory.Transaction, LintSeverity.Error, LintDialects.Postgres,
        "VALIDATE CONSTRAINT in the transaction that added the constraint NOT VALID keeps the strong lock for the whole validation",
        "Commit the NOT VALID constraint first (separate migration or transaction), then VALIDATE CONSTRAINT on its own.",
        SizeDependent: true);

    public static readonly LintRule ConcurrentIndexIfNotExists = new(
        "GK508", "concurrent-index-if-not-exists", LintCategory.Transaction, LintSeverity.Warning, LintDialects.Postgres,
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS: after a failed build, a retry silently keeps the INVALID index",
        "Write DROP INDEX CONCURRENTLY IF EXISTS name; then CREATE INDEX CONCURRENTLY name … (without IF NOT EXISTS).");

    // GK6xx — hygiene.
    public static readonly LintRule PreferBigint = new(
        "GK601", "prefer-bigint", LintCategory.Hygiene, LintSeverity.Warning, LintDialects.Both,
        "A 32-bit (or smaller) key runs out at 2^31 rows, and widening it later rewrites the table",
        "Use bigint (bigserial / BIGINT AUTO_INCREMENT / bigint GENERATED … AS IDENTITY) for keys and counters.",
        Anchors: ["squawk:prefer-bigint-over-int", "squawk:prefer-bigint-over-smallint"]);

    public static readonly LintRule PreferIdentity = new(
        "GK602", "prefer-identity", LintCategory.Hygiene, LintSeverity.Warning, LintDialects.Postgres,
        "serial columns make permissions, ownership and dumps of their sequence awkward",
        "Use bigint GENERATED BY DEFAULT AS IDENTITY.",
        Anchors: ["squawk:prefer-identity"]);

    public static readonly LintRule PreferText = new(
        "GK603", "prefer-text", LintCategory.Hygiene, LintSeverity.Warning, LintDialects.Postgres,
        "varchar(n) makes a later length change an ALTER TYPE under an ACCESS EXCLUSIVE lock",
        "Use text with a CHECK (length(col) <= n) constraint, which can be changed NOT VALID.",
        EnabledByDefault: false,
        Anchors: ["squawk:prefer-text-field"]);

    public static readonly LintRule PreferTimestamptz = new(
        "GK604", "prefer-timestamptz", LintCategory.Hygiene, LintSeverity.Warning, LintDialects.Postgres,
        "timestamp without time zone stores wall-clock time and loses the offset; comparisons across zones go wrong",
        "Use timestamptz.",
        Anchors: ["squawk:prefer-timestamptz"]);

    public static readonly LintRule CharColumn = new(
        "GK605", "char-column", LintCategory.Hygiene, LintSeverity.Warning, LintDialects.Postgres,
        "char(n) pads values with spaces and is no faster than text",
        "Use text (or varchar) instead.",
        Anchors: ["squawk:ban-char-field"]);

    public static readonly LintRule PreferRobustStatements = new(
        "GK606", "prefer-robust-statements", LintCategory.Hygiene, LintSeverity.Warning, LintDialects.Postgres,
        "This migration runs without a transaction, so after a failure half-way a retry fails on what the first attempt already did",
        "Use IF NOT EXISTS / IF EXISTS (for CREATE INDEX CONCURRENTLY: DROP INDEX CONCURRENTLY IF EXISTS first) so the migration can be re-run.",
        Anchors: ["squawk:prefer-robust-stmts"]);

    public static readonly LintRule IdentifierTooLong = new(
        "GK607", "identifier-too-long", LintCategory.Hygiene, LintSeverity.Warning, LintDialects.Both,
        "The name is longer than the server allows (PostgreSQL truncates past 63 bytes; MySQL rejects past 64 characters)",
        "Use a shorter name, so the object is called what the migration and the app say.",
        Anchors: ["squawk:identifier-too-long"]);

    public static readonly LintRule DuplicateColumnAssignment = new(
        "GK608", "duplicate-column-assignment", LintCategory.Hygiene, LintSeverity.Error, LintDialects.Both,
        "The UPDATE assigns the same column twice (PostgreSQL rejects it; MySQL silently keeps the last)",
        "Assign each column once.",
        Anchors: ["squawk:ban-duplicate-column-assignments"]);

    public static readonly LintRule EnumValueOrdering = new(
        "GK609", "enum-value-ordering", LintCategory.Hygiene, LintSeverity.Warning, LintDialects.Postgres,
        "ADD VALUE without BEFORE/AFTER appends the value, which decides how the enum sorts",
        "Say where the value goes with BEFORE or AFTER when the order matters.",
        EnabledByDefault: false,
        Anchors: ["squawk:require-enum-value-ordering"]);

    public static readonly LintRule RequireSchema = new(
        "GK610", "require-schema", LintCategory.Hygiene, LintSeverity.Warning, LintDialects.Postgres,
        "The table name is not schema-qualified, so search_path decides where it is created",
        "Qualify the name (public.orders).",
        EnabledByDefault: false,
        Anchors: ["squawk:require-table-schema"]);

    public static readonly LintRule DomainWithConstraint = new(
        "GK611", "domain-with-constraint", LintCategory.Hygiene, LintSeverity.Warning, LintDialects.Postgres,
        "Constraints on a domain cannot be changed online later (altering them re-checks every column using the domain)",
        "Put CHECK constraints on the table columns instead.",
        Anchors: ["squawk:ban-create-domain-with-constraint"]);

    public static readonly LintRule MySqlInlineReferences = new(
        "GK612", "mysql-inline-references", LintCategory.Hygiene, LintSeverity.Warning, LintDialects.MySql,
        "An inline REFERENCES clause on a column is parsed and ignored before MySQL 9.0: no foreign key is created",
        "Declare the foreign key separately: FOREIGN KEY (col) REFERENCES other(id).",
        Anchors: ["atlas:MY102"]);

    public static readonly LintRule MySqlVersionedComment = new(
        "GK613", "mysql-versioned-comment", LintCategory.Hygiene, LintSeverity.Warning, LintDialects.MySql,
        "Executable comment that MySQL and MariaDB read differently (MariaDB skips /*!50700 … */ to /*!99999 … */, MySQL skips /*M! … */)",
        "Write the SQL plainly for the server you run, or keep versioned comments to what both engines accept.");

    public static readonly LintRule MySqlCheckIgnored = new(
        "GK614", "mysql-check-ignored", LintCategory.Hygiene, LintSeverity.Warning, LintDialects.MySql,
        "A CHECK constraint is parsed and ignored before MySQL 8.0.16 (MariaDB 10.2.1): no row is ever checked",
        "Do not rely on the CHECK on this server: validate in the application or with a trigger, or upgrade to a server that enforces it.");

    public static IReadOnlyList<LintRule> All { get; } =
    [
        SyntaxProblem, InvalidDirective, UnusedDirective, RefusedByServer,
        DropTable, DropColumn, DropSchemaOrDatabase, Truncate, TruncateCascade, DeleteWithoutWhere, DropCascade, DropConstraint, DropPartition,
        RenameTable, RenameColumn, RenameObject, AddRequiredColumn, DropDefaultOfRequiredColumn, DropObjectInUse, DropNotNull, RedefineColumnDropsAttributes,
        ColumnTypeRewrite, SetNotNullScan, CreateIndexNotConcurrently, DropIndexNotConcurrently, ForeignKeyWithoutNotValid, CheckWithoutNotValid,
        UniqueOrPrimaryKeyConstraint, AddColumnRewritesTable, UpdateWithoutWhere, MySqlTableCopy, MySqlBlocksWrites, MySqlTableRebuild,
        RefreshMaterializedView, ExplicitLock, TableRewrite, ReindexNotConcurrently, DetachPartitionNotConcurrently, CreateTriggerLock, AlterDomainAddConstraint,
        PartitionLock,
        UniqueMayFail, NotNullMayFail, NarrowingType,
        NotInTransaction, NewEnumValueInSameTransaction, DdlAndBackfillInOneTransaction, NestedTransaction, UncommittedTransaction, MySqlImplicitCommit,
        ValidateInSameTransaction, ConcurrentIndexIfNotExists,
        PreferBigint, PreferIdentity, PreferText, PreferTimestamptz, CharColumn, PreferRobustStatements, IdentifierTooLong, DuplicateColumnAssignment,
        EnumValueOrdering, RequireSchema, DomainWithConstraint, MySqlInlineReferences, MySqlVersionedComment, MySqlCheckIgnored,
    ];

    private static readonly Dictionary<string, LintRule> ById = All.ToDictionary(r => r.Id, StringComparer.OrdinalIgnoreCase);

    /// <summary>The rule with this id (case-insensitive), or null.</summary>
    public static LintRule? Find(string id) => ById.GetValueOrDefault(id);
}
