package sqldb

import (
	"context"
	"fmt"
	"strings"

	"github.com/authserver/authserver/internal/store"
)

var (
	createRuleQ = q(`INSERT INTO repository_rules (project_id, pattern, user_id, group_id, robot_id, authenticated,
		actions, deny, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	listRulesQ = q(`SELECT r.id, p.name, r.pattern,
		CASE WHEN r.user_id IS NOT NULL THEN 'user' WHEN r.group_id IS NOT NULL THEN 'group'
			WHEN r.robot_id IS NOT NULL THEN 'robot' ELSE 'authenticated' END,
		COALESCE(u.name, g.name, rb.name, ''), r.actions, r.deny, r.created_at
		FROM repository_rules r JOIN projects p ON p.id = r.project_id
		LEFT JOIN users u ON u.id = r.user_id LEFT JOIN groups g ON g.id = r.group_id LEFT JOIN robots rb ON rb.id = r.robot_id
		WHERE ? = '' OR p.name = ? ORDER BY p.name{collate}, r.id`)
	deleteRuleQ = q(`DELETE FROM repository_rules WHERE id = ? AND project_id = (SELECT id FROM projects WHERE name = ?)`)
	robotIDQ    = q(`SELECT id FROM robots WHERE name = ?`)
)

func (s *Store) CreateRule(ctx context.Context, r *store.Rule) error {
	op := fmt.Sprintf("create rule on %s in project %q", quote(r.Repos), r.Project)
	if len(r.Actions) == 0 || r.Repos == "" {
		return fmt.Errorf("%s: a rule needs a pattern and actions", op)
	}
	var user, group, robot *int64
	id := func(find func() (int64, error)) (*int64, error) {
		v, err := find()
		return &v, err
	}
	pid, err := projects.idOf(ctx, s, r.Project)
	if err == nil {
		switch r.Subject {
		case store.RuleUser:
			user, err = id(func() (int64, error) { return users.idOf(ctx, s, r.Name) })
		case store.RuleGroup:
			group, err = id(func() (int64, error) { return groups.idOf(ctx, s, r.Name) })
		case store.RuleRobot:
			robot, err = id(func() (int64, error) {
				var v int64
				err := s.queryRow(ctx, robotIDQ, r.Name).Scan(&v)
				if err != nil {
					err = fmt.Errorf("robot %q: %w", r.Name, s.wrap("find robot", err))
				}
				return v, err
			})
		case store.RuleAuthenticated:
			r.Name = ""
		default:
			return fmt.Errorf("%s: unknown subject %q", op, r.Subject)
		}
	}
	if err == nil {
		r.CreatedAt = now()
		err = s.queryRow(ctx, createRuleQ, pid, r.Repos, user, group, robot, r.Subject == store.RuleAuthenticated,
			strings.Join(r.Actions, ","), r.Deny, s.time(r.CreatedAt)).Scan(&r.ID)
	}
	return s.wrap(op, err)
}

func (s *Store) ListRules(ctx context.Context, project string) ([]store.Rule, error) {
	op := "list rules"
	if project != "" {
		op += " of project " + quote(project)
		if _, err := projects.idOf(ctx, s, project); err != nil {
			return nil, s.wrap(op, err)
		}
	}
	rs, err := collect(ctx, s, func(row scanner) (r store.Rule, err error) {
		var actions, subject string
		err = row.Scan(&r.ID, &r.Project, &r.Repos, &subject, &r.Name, &actions, &r.Deny, timeCol(&r.CreatedAt))
		r.Subject, r.Actions = store.RuleSubject(subject), strings.Split(actions, ",")
		return r, err
	}, listRulesQ, project, project)
	return rs, s.wrap(op, err)
}

func (s *Store) DeleteRule(ctx context.Context, project string, id int64) error {
	return s.change(ctx, fmt.Sprintf("delete rule %d of project %q", id, project), deleteRuleQ, id, project)
}
