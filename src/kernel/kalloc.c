// SPDX-License-Identifier: GPL-2.0
/*
 * wsim_kalloc: the kernel allocations of a wsim trace (`alloc` / `free` events), made by the
 * kernel itself, so `wsim kernel` replays them honestly. Built by `wsim kernel` against the
 * guest kernel's headers and loaded by the helper before the first snapshot.
 *
 * Writes to /proc/wsim_kalloc, one command a write:
 *   a ID ORDER MT NODE  alloc_pages_node(NODE, GFP_KERNEL | MT's flag, ORDER) (NODE -1: the
 *                       CPU's node, as alloc_pages); MT u (unmovable), m (__GFP_MOVABLE) or
 *                       r (__GFP_RECLAIMABLE), as wsim's kernel allocations (SPEC §4.3)
 *   f ID                __free_pages of that allocation
 *   D                   take every free page of ZONE_DMA (GFP_DMA, largest orders first, until
 *                       the allocator refuses), kept until unload: a node whose DMA zone holds
 *                       free order-9/10 blocks is "balanced" for THP orders by pgdat_balanced
 *                       (any zone will do), which wsim's one-zone node never is
 * Reading /proc/wsim_kalloc gives "dma PAGES": how many pages D took.
 * A failed allocation returns -ENOMEM (__GFP_NOWARN: the trace expects some to fail); freeing
 * an ID that holds nothing returns -ENOENT.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

static DEFINE_XARRAY(held);
/* D's pages, by order, on their own list (page->lru is the owner's while allocated) */
static LIST_HEAD(dma_held);
static unsigned long dma_pages;

static void fill_dma(void)
{
	int order;

	for (order = MAX_ORDER - 1; order >= 0; order--) {
		struct page *page;

		while ((page = alloc_pages(GFP_DMA | __GFP_NOWARN | __GFP_NORETRY, order))) {
			set_page_private(page, order);
			list_add(&page->lru, &dma_held);
			dma_pages += 1UL << order;
		}
	}
}

static ssize_t kalloc_read(struct file *file, char __user *ubuf, size_t len, loff_t *off)
{
	char buf[32];
	int n = scnprintf(buf, sizeof(buf), "dma %lu\n", dma_pages);

	return simple_read_from_buffer(ubuf, len, off, buf, n);
}

static ssize_t kalloc_write(struct file *file, const char __user *ubuf, size_t len, loff_t *off)
{
	char buf[64];
	unsigned long id;
	unsigned int order;
	char mt;
	int node;
	struct page *page;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';

	if (sscanf(buf, "a %lu %u %c %d", &id, &order, &mt, &node) == 4) {
		gfp_t gfp = GFP_KERNEL | __GFP_NOWARN;

		if (order >= MAX_ORDER || (node >= 0 && !node_online(node)))
			return -EINVAL;
		if (mt == 'm')
			gfp |= __GFP_MOVABLE;
		else if (mt == 'r')
			gfp |= __GFP_RECLAIMABLE;
		page = node >= 0 ? alloc_pages_node(node, gfp, order) : alloc_pages(gfp, order);
		if (!page)
			return -ENOMEM;
		/* a non-compound allocation's private field is its owner's: keep the order there */
		set_page_private(page, order);
		if (xa_err(xa_store(&held, id, page, GFP_KERNEL))) {
			__free_pages(page, order);
			return -ENOMEM;
		}
		return len;
	}
	if (buf[0] == 'D') {
		fill_dma();
		return len;
	}
	if (sscanf(buf, "f %lu", &id) == 1) {
		page = xa_erase(&held, id);
		if (!page)
			return -ENOENT;
		order = page_private(page);
		set_page_private(page, 0);
		__free_pages(page, order);
		return len;
	}
	return -EINVAL;
}

static const struct proc_ops kalloc_ops = {
	.proc_read = kalloc_read,
	.proc_write = kalloc_write,
};

static int __init kalloc_init(void)
{
	return proc_create("wsim_kalloc", 0600, NULL, &kalloc_ops) ? 0 : -ENOMEM;
}

static void __exit kalloc_exit(void)
{
	struct page *page, *next;
	unsigned long id;

	remove_proc_entry("wsim_kalloc", NULL);
	list_for_each_entry_safe(page, next, &dma_held, lru) {
		unsigned int order = page_private(page);

		list_del(&page->lru);
		set_page_private(page, 0);
		__free_pages(page, order);
	}
	xa_for_each(&held, id, page) {
		unsigned int order = page_private(page);

		set_page_private(page, 0);
		__free_pages(page, order);
	}
	xa_destroy(&held);
}

module_init(kalloc_init);
module_exit(kalloc_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("wsim: a trace's kernel allocations, made by the kernel");
