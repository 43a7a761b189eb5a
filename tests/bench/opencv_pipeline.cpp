// OpenCV reference for the image pipeline benchmark (scripts/bench-image.sh):
// JPEG bytes -> imdecode(IMREAD_COLOR) -> cvtColor(BGR2GRAY) ->
// GaussianBlur(13x13, sigma 2, BORDER_REFLECT_101) -> imencode(".jpg", q90),
// single-threaded (cv::setNumThreads(1)), the bytes already in memory.
//
// The kernel matches gpix's blur: kernel_size 0 picks 2*ceil(3*sigma)+1 = 13
// for sigma 2, and "reflect" mirrors without repeating the edge pixel
// (OpenCV's BORDER_REFLECT_101).
//
//   g++ -O2 -o opencv_pipeline opencv_pipeline.cpp $(pkg-config --cflags --libs opencv4)
//   opencv_pipeline FILE.jpg [SECONDS=3] [OUT.jpg]
//
// Runs for SECONDS after two warm-up images and prints one line:
//   opencv <W>x<H> images=<n> ms_median=<m> ms_mean=<a> img_per_s=<r>
//   cpu_ms=<c> decode_ms=<d> filter_ms=<f> encode_ms=<e> faults=<p> out_bytes=<b>
// ms_*, img_per_s: wall clock; cpu_ms and the stage times: medians of the
// thread's CPU time (the machine is shared, so wall time also measures the
// neighbours); faults: minor page faults per image. OUT.jpg: write the last result there.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <ctime>

#include <sys/resource.h>

using clk = std::chrono::steady_clock;

// Thread CPU time (user + system, page faults included) in ms: this machine
// is shared, so wall time also measures the neighbours.
static double cpu_ms()
{
	timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static double ms(clk::time_point a, clk::time_point b)
{
	return std::chrono::duration<double, std::milli>(b - a).count();
}

static long minflt()
{
	rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static double median(std::vector<double> v)
{
	if (v.empty())
		return 0;
	std::sort(v.begin(), v.end());
	return v[v.size() / 2];
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		std::fprintf(stderr, "usage: %s FILE.jpg [SECONDS] [OUT.jpg]\n", argv[0]);
		return 2;
	}
	double seconds = argc > 2 ? std::atof(argv[2]) : 3.0;
	cv::setNumThreads(1);
	cv::setUseOptimized(true);

	std::ifstream f(argv[1], std::ios::binary);
	std::vector<uchar> src((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
	if (src.empty()) {
		std::fprintf(stderr, "cannot read %s\n", argv[1]);
		return 1;
	}
	const std::vector<int> params = {cv::IMWRITE_JPEG_QUALITY, 90};
	const int ksize = 2 * (int)std::ceil(3.0 * 2.0) + 1; // 13, as gpix
	std::vector<uchar> out;
	std::vector<double> total, cpu, dec, fil, enc;
	cv::Mat img, gray, blur;
	auto start = clk::now();
	long flt0 = 0;
	for (int i = -2;; i++) {
		auto t0 = clk::now();
		double c0 = cpu_ms();
		img = cv::imdecode(src, cv::IMREAD_COLOR);
		double c1 = cpu_ms();
		cv::cvtColor(img, gray, cv::COLOR_BGR2GRAY);
		cv::GaussianBlur(gray, blur, cv::Size(ksize, ksize), 2.0, 2.0, cv::BORDER_REFLECT_101);
		double c2 = cpu_ms();
		cv::imencode(".jpg", blur, out, params);
		double c3 = cpu_ms();
		auto t3 = clk::now();
		if (img.empty() || out.empty()) {
			std::fprintf(stderr, "decode/encode failed\n");
			return 1;
		}
		if (i < 0) {
			start = clk::now();
			flt0 = minflt();
			continue;
		}
		total.push_back(ms(t0, t3));
		cpu.push_back(c3 - c0);
		dec.push_back(c1 - c0);
		fil.push_back(c2 - c1);
		enc.push_back(c3 - c2);
		if (ms(start, t3) >= seconds * 1000.0 && total.size() >= 5)
			break;
	}
	double wall = ms(start, clk::now());
	double faults = (double)(minflt() - flt0) / (double)total.size();
	double sum = 0;
	for (double t : total)
		sum += t;
	std::printf("opencv %dx%d images=%zu ms_median=%.3f ms_mean=%.3f img_per_s=%.2f "
		    "cpu_ms=%.3f decode_ms=%.3f filter_ms=%.3f encode_ms=%.3f faults=%.0f "
		    "out_bytes=%zu threads=%d\n",
		    img.cols, img.rows, total.size(), median(total), sum / (double)total.size(),
		    1000.0 * (double)total.size() / wall, median(cpu), median(dec), median(fil),
		    median(enc), faults,
		    out.size(), cv::getNumThreads());
	if (argc > 3) {
		std::ofstream o(argv[3], std::ios::binary);
		o.write((const char *)out.data(), (std::streamsize)out.size());
	}
	return 0;
}
