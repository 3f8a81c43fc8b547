/*
 * i18n.c - the interface's words: web_t(r, "English msgid") gives the Chinese words by default
 * and the English msgid when the language cookie says en. Until the gettext catalogues
 * (po/zh_CN.po) arrive, the Chinese words are in the table below, one block per page; the
 * switch to gettext changes this file alone.
 */
#include "web_int.h"

#include <string.h>

typedef struct word {
	const char *en, *zh;
} word;

static const word words[] = {
    /* every page (html.c, server.c) */
    {"hamlet station", "防控台账"},
    {"Log out", "退出"},
    {"Sync", "同步"},
    {"Back to the start page", "返回首页"},
    {"Not possible", "无法完成"},
    {"This address is not the station's.", "此地址不是本站的地址。"},
    {"There is no such page.", "没有这个页面。"},
    {"This page does not take that method.", "此页面不接受该请求方式。"},
    {"This form has expired or did not come from this station.", "表单已过期，或不是本站发出的。"},
    {"Open the page again and send it once more.", "请重新打开页面后再提交一次。"},
    {"Your role cannot open this page.", "你的角色不能打开此页面。"},
    {"What was sent is too large.", "提交的内容过大。"},
    {"The station ran out of memory.", "本站内存不足。"},
    {"The station could not do this.", "本站无法完成此操作。"},
    /* /login */
    {"Log in", "登录"},
    {"Name", "姓名"},
    {"Password", "密码"},
    {"Give your name and password.", "请填写姓名和密码。"},
    {"Wrong name or password.", "姓名或密码错误。"},
    {"Too many wrong passwords: wait a moment before trying again.",
     "密码错误次数过多，请稍候再试。"},
    /* /sync */
    {"Peer", "对端"},
    {"Address", "地址"},
    {"Last exchange", "上次同步"},
    {"Sent", "已发送"},
    {"Received", "已接收"},
    {"Waiting to send", "待发送"},
    {"Failures", "失败"},
    {"unknown (no sync yet)", "未知（尚未同步）"},
    {"Sync now", "立即同步"},
    {"Write a bundle", "写入数据包"},
    {"A sealed file of everything this station holds, for a USB stick.",
     "本站全部数据的加密文件，可存入U盘。"},
    {"File (a full path on this machine)", "文件（本机上的完整路径）"},
    {"Write the bundle", "写入数据包"},
    {"This station has no peers yet (hamlet peer add).", "本站尚无同步对端（hamlet peer add）。"},
    {"There is no such peer.", "没有这个对端。"},
    {"The sync failed with", "同步失败："},
    {"Synced with", "已同步："},
    {"sent", "发送"},
    {"received", "接收"},
    {"Give the bundle's full path, from /.", "请填写数据包的完整路径（以 / 开头）。"},
    {"The bundle was not written", "数据包未写入"},
    {"Bundle written to", "数据包已写入"},
    {"change sets", "个变更集"},
    {"bytes", "字节"},
    {"that file exists already; choose another name", "该文件已存在，请换一个文件名"},
};

const char *web_t(const web_req *r, const char *msgid)
{
	if (r->en)
		return msgid;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(words[i].en, msgid))
			return words[i].zh;
	return msgid;
}
