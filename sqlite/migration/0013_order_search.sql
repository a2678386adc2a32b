-- 0013_order_search: an index for the order list's search by part of a
-- customer name. Keep in step with postgres/migration/0013_order_search.sql;
-- the matching rule is in store.OrderListParams and docs/console.md.
--
-- order_search is an FTS5 table of trigrams of the folded name (Go's
-- strings.ToLower, already in orders.customer_name_fold), keyed by the
-- order number, so a phrase query for a folded text of three or more
-- characters finds exactly the names that contain it, and reads the
-- matches newest number first without a sort. It is contentless (the name
-- is in orders) and case-sensitive (the text is folded already, by the
-- same rule as on PostgreSQL). A trigger keeps it in step: names never
-- change after insert, and orders are not deleted today, but a deleted
-- order leaves the index too.
CREATE VIRTUAL TABLE order_search USING fts5(
    customer_name_fold,
    content = '',
    contentless_delete = 1,
    tokenize = 'trigram case_sensitive 1'
);

INSERT INTO order_search (rowid, customer_name_fold)
    SELECT number, customer_name_fold FROM orders;

CREATE TRIGGER orders_search_insert AFTER INSERT ON orders BEGIN
    INSERT INTO order_search (rowid, customer_name_fold) VALUES (new.number, new.customer_name_fold);
END;

CREATE TRIGGER orders_search_delete AFTER DELETE ON orders BEGIN
    DELETE FROM order_search WHERE rowid = old.number;
END;
