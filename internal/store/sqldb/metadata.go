package sqldb

import (
	"context"
	"fmt"
)

var (
	// projectMetadataQ reads a project's metadata: a row of NULLs for a
	// project without any, no row for a missing project (children).
	projectMetadataQ = q(`SELECT COALESCE(m.name, ''), COALESCE(m.value, '') FROM projects p
		LEFT JOIN project_metadata m ON m.project_id = p.id WHERE p.id = ? ORDER BY m.name{collate}`)
	deleteMetadataQ = q(`DELETE FROM project_metadata WHERE project_id = ?`)
	insertMetadataQ = q(`INSERT INTO project_metadata (project_id, name, value) VALUES (?, ?, ?)`)
	projectExistsQ  = q(`SELECT id FROM projects WHERE id = ?{for_update}`)
	reserveNameQ    = q(`INSERT INTO reserved_project_names (name, deleted_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`)
	reservedNameQ   = q(`SELECT count(*) FROM reserved_project_names WHERE name = ?`)
	releaseNameQ    = q(`DELETE FROM reserved_project_names WHERE name = ?`)
)

func (s *Store) ReserveProjectName(ctx context.Context, name string) error {
	_, err := s.exec(ctx, reserveNameQ, name, now().Format("2006-01-02T15:04:05.000000Z"))
	return s.wrap("reserve project name "+quote(name), err)
}

func (s *Store) ProjectNameReserved(ctx context.Context, name string) (bool, error) {
	var n int
	err := s.queryRow(ctx, reservedNameQ, name).Scan(&n)
	return n > 0, s.wrap("read reserved project name "+quote(name), err)
}

func (s *Store) ReleaseProjectName(ctx context.Context, name string) error {
	_, err := s.exec(ctx, releaseNameQ, name)
	return s.wrap("release project name "+quote(name), err)
}

type metadatum struct{ name, value string }

func (s *Store) ProjectMetadata(ctx context.Context, id int64) (map[string]string, error) {
	rows, err := children(ctx, s, projectMetadataQ, id, columns(func(m *metadatum) []any { return []any{&m.name, &m.value} }))
	out := make(map[string]string, len(rows))
	for _, m := range rows {
		out[m.name] = m.value
	}
	return out, s.wrap(fmt.Sprintf("read metadata of project %d", id), err)
}

func (s *Store) SetProjectMetadata(ctx context.Context, id int64, md map[string]string) error {
	err := s.inTx(ctx, func(tx *Store) error {
		var got int64
		if err := tx.queryRow(ctx, projectExistsQ, id).Scan(&got); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, deleteMetadataQ, id); err != nil {
			return err
		}
		for k, v := range md {
			if k == "public" {
				continue
			}
			if _, err := tx.exec(ctx, insertMetadataQ, id, k, v); err != nil {
				return err
			}
		}
		return nil
	})
	return s.wrap(fmt.Sprintf("set metadata of project %d", id), err)
}
