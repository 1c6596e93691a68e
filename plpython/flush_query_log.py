from pgscore.pl import flush_query_log
return flush_query_log(plpy, GD, TD)
