/*
 * The backup pipeline of BackupCore, modelled in C for callgrind.
 *
 * valgrind 3.19 (Debian 12) crashes on Swift 6 binaries (inside libdispatch's thread start), so
 * the instruction profile is taken on this model, which makes the same library calls in the same
 * order with the same sizes: sqlite3_backup_step 2048 pages at a time inside one held read
 * transaction into a journal-less scratch file; then 1 MiB reads of the copy, SHA-256 of it,
 * deflate into gzip, SHA-256 of the compressed bytes, write(2). The Swift glue around these
 * calls is thin; the libraries do the work.
 *
 *   pipeline_model SOURCE.sqlite OUT.gz LEVEL single|blocks|stored
 *
 * `blocks` deflates the way ParallelGzipWriter does (256 KiB blocks, each with the previous
 * block's last 32 KiB as dictionary, Z_SYNC_FLUSH), but on one thread, to count what the split
 * costs; `stored` adds its incompressibility trial (four 8 KiB samples; < 3% saved: stored blocks).
 */
#include <fcntl.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define CHUNK (1 << 20)
#define BLOCK (256 * 1024)
#define WINDOW (32 * 1024)

static void die(const char *what) { fprintf(stderr, "model: %s\n", what); exit(1); }

static void snapshot(const char *source, const char *copy) {
    sqlite3 *src, *dst;
    unlink(copy);
    if (sqlite3_open_v2(source, &src, SQLITE_OPEN_READONLY, NULL)) die("open source");
    if (sqlite3_open(copy, &dst)) die("open copy");
    sqlite3_exec(dst, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF", 0, 0, 0);
    sqlite3_exec(src, "BEGIN; SELECT 1 FROM sqlite_master LIMIT 1", 0, 0, 0);
    sqlite3_backup *backup = sqlite3_backup_init(dst, "main", src, "main");
    if (!backup) die("backup init");
    int rc;
    while ((rc = sqlite3_backup_step(backup, 2048)) == SQLITE_OK) {}
    if (rc != SQLITE_DONE) die("backup step");
    sqlite3_backup_finish(backup);
    sqlite3_exec(src, "ROLLBACK", 0, 0, 0);
    sqlite3_close(src);
    sqlite3_close(dst);
}

static EVP_MD_CTX *bundle_hash;

/* The trial of DeflateBlock.isIncompressible: deflate four 8 KiB pieces spread over the block. */
static int incompressible(z_stream *z, unsigned char *data, size_t count, unsigned char *out, size_t out_size) {
    if (count < 64 * 1024 || deflateReset(z) != Z_OK) return 0;
    z->next_out = out;
    z->avail_out = out_size;
    for (int i = 0; i < 4; i++) {
        z->next_in = data + i * (count / 4);
        z->avail_in = 8192;
        deflate(z, i == 3 ? Z_FINISH : Z_NO_FLUSH);
    }
    return z->total_out * 100 >= 4 * 8192 * 97;
}

/* DeflateBlock.store: stored deflate blocks of at most 65,535 bytes. */
static size_t store(unsigned char *data, size_t count, int last, unsigned char *out) {
    size_t read = 0, written = 0;
    while (read < count) {
        size_t length = count - read < 65535 ? count - read : 65535;
        out[written] = last && read + length == count;
        out[written + 1] = length & 0xff;
        out[written + 2] = length >> 8;
        out[written + 3] = ~length & 0xff;
        out[written + 4] = (~length >> 8) & 0xff;
        memcpy(out + written + 5, data + read, length);
        read += length;
        written += 5 + length;
    }
    return written;
}
static int out_fd;

static void emit(const unsigned char *bytes, size_t count) {
    EVP_DigestUpdate(bundle_hash, bytes, count);
    if (write(out_fd, bytes, count) != (ssize_t)count) die("write");
}

int main(int argc, char **argv) {
    if (argc != 5) die("usage: pipeline_model SOURCE OUT LEVEL single|blocks");
    int level = atoi(argv[3]), stored = strcmp(argv[4], "stored") == 0;
    int blocks = stored || strcmp(argv[4], "blocks") == 0;
    char copy[4096];
    snprintf(copy, sizeof copy, "%s.snapshot", argv[2]);
    snapshot(argv[1], copy);

    int in_fd = open(copy, O_RDONLY);
    out_fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in_fd < 0 || out_fd < 0) die("open files");
    EVP_MD_CTX *entry_hash = EVP_MD_CTX_new();
    bundle_hash = EVP_MD_CTX_new();
    EVP_DigestInit_ex(entry_hash, EVP_sha256(), NULL);
    EVP_DigestInit_ex(bundle_hash, EVP_sha256(), NULL);

    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, blocks ? -15 : 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) die("deflateInit");
    unsigned char *chunk = malloc(CHUNK), *block = malloc(WINDOW + BLOCK);
    size_t out_size = compressBound(BLOCK > CHUNK ? BLOCK : CHUNK) + 64;
    unsigned char *out = malloc(out_size);
    size_t fill = 0, dict = 0;
    uLong crc = crc32(0, NULL, 0), total = 0;
    if (blocks) {
        static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
        emit(header, sizeof header);
    }
    for (;;) {
        ssize_t count = read(in_fd, chunk, CHUNK);
        if (count < 0) die("read");
        EVP_DigestUpdate(entry_hash, chunk, count);
        if (!blocks) {
            z.next_in = chunk;
            z.avail_in = count;
            int flush = count == 0 ? Z_FINISH : Z_NO_FLUSH;
            do {
                z.next_out = out;
                z.avail_out = out_size;
                deflate(&z, flush);
                emit(out, out_size - z.avail_out);
            } while (z.avail_out == 0);
        } else {
            size_t offset = 0;
            do {
                size_t take = BLOCK - fill < (size_t)count - offset ? BLOCK - fill : (size_t)count - offset;
                memcpy(block + WINDOW + fill, chunk + offset, take);
                fill += take;
                offset += take;
                int last = count == 0;
                if (fill == BLOCK || last) {
                    crc = crc32_combine(crc, crc32(0, block + WINDOW, fill), fill);
                    total += fill;
                    if (stored && incompressible(&z, block + WINDOW, fill, out, out_size)) {
                        emit(out, store(block + WINDOW, fill, last, out));
                        memcpy(block, block + WINDOW + fill - WINDOW, WINDOW);
                        dict = WINDOW;
                        fill = 0;
                        continue;
                    }
                    deflateReset(&z);
                    if (dict) deflateSetDictionary(&z, block + WINDOW - dict, dict);
                    z.next_in = block + WINDOW;
                    z.avail_in = fill;
                    z.next_out = out;
                    z.avail_out = out_size;
                    deflate(&z, last ? Z_FINISH : Z_SYNC_FLUSH);
                    emit(out, out_size - z.avail_out);
                    memcpy(block, block + WINDOW + fill - WINDOW, WINDOW);
                    dict = fill >= WINDOW ? WINDOW : 0;
                    fill = 0;
                }
            } while (offset < (size_t)count);
        }
        if (count == 0) break;
    }
    if (blocks) {
        unsigned char trailer[8];
        for (int i = 0; i < 4; i++) {
            trailer[i] = (crc >> (8 * i)) & 0xff;
            trailer[4 + i] = (total >> (8 * i)) & 0xff;
        }
        emit(trailer, 8);
    }
    unsigned char digest[32];
    EVP_DigestFinal_ex(entry_hash, digest, NULL);
    EVP_DigestFinal_ex(bundle_hash, digest, NULL);
    deflateEnd(&z);
    close(out_fd);
    unlink(copy);
    return 0;
}
