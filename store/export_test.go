package store

import "database/sql"

// DBForTest exposes the database handle to the package's tests.
func DBForTest(s *Store) *sql.DB { return s.db }
