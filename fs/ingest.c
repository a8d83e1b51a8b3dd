/* ingest.c — a small thread pool over wfs_wheel_ingest(). */
#include "ingest.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct pool {
	struct wfs_cache *cache;
	struct wfs_ingest_item *items;
	size_t n, next, done;
	const struct wfs_ingest_opts *opts;
	wfs_ingest_progress_fn progress;
	void *arg;
	pthread_mutex_t lock;
};

static void *worker(void *p)
{
	struct pool *pl = p;

	for (;;) {
		struct wfs_ingest_item *it;
		pthread_mutex_lock(&pl->lock);
		if (pl->next == pl->n) {
			pthread_mutex_unlock(&pl->lock);
			return NULL;
		}
		it = &pl->items[pl->next++];
		pthread_mutex_unlock(&pl->lock);

		it->err.msg[0] = '\0';
		it->rc = wfs_wheel_ingest(pl->cache, it->source, pl->opts,
					  &it->res, &it->err);

		pthread_mutex_lock(&pl->lock);
		pl->done++;
		if (pl->progress)
			pl->progress(pl->done, pl->n, it, pl->arg);
		pthread_mutex_unlock(&pl->lock);
	}
}

int wfs_ingest_many(struct wfs_cache *c, struct wfs_ingest_item *items,
		    size_t n, int jobs, const struct wfs_ingest_opts *opts,
		    wfs_ingest_progress_fn progress, void *arg)
{
	struct pool pl = { .cache = c, .items = items, .n = n, .opts = opts,
			   .progress = progress, .arg = arg };
	pthread_t *th;
	size_t nth;

	if (jobs <= 0)
		jobs = wfs_ncpus();
	nth = (size_t)jobs < n ? (size_t)jobs : n;
	pthread_mutex_init(&pl.lock, NULL);
	th = calloc(nth ? nth : 1, sizeof(*th));
	if (!th) {
		pthread_mutex_destroy(&pl.lock);
		return -ENOMEM;
	}
	/* The calling thread works too; nth-1 helpers join it. */
	size_t started = 0;
	for (size_t i = 1; i < nth; i++)
		if (pthread_create(&th[i], NULL, worker, &pl) == 0)
			th[started++ + 1] = th[i];
	worker(&pl);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i + 1], NULL);
	free(th);
	pthread_mutex_destroy(&pl.lock);
	for (size_t i = 0; i < n; i++)
		if (items[i].rc)
			return items[i].rc;
	return 0;
}
